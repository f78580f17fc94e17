//! A report's query string: its filters, sort and page, checked against what the report
//! offers, and written back for links.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use super::{FilterKind, ReportKind};
use crate::domain::values::{OrderId, parse_date};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Ascending,
    Descending,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ascending => "asc",
            Self::Descending => "desc",
        }
    }

    fn reversed(self) -> Self {
        match self {
            Self::Ascending => Self::Descending,
            Self::Descending => Self::Ascending,
        }
    }
}

/// A checked query: every value is one the report can use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportQuery {
    /// The filters given, by name, in the report's order; blank ones are left out.
    pub filters: Vec<(String, String)>,
    /// A column key.
    pub sort: String,
    pub direction: Direction,
    /// From 1.
    pub page: u32,
}

/// The highest page number accepted; far beyond any real report.
const MAX_PAGE: u32 = 1_000_000;

/// Characters escaped in query string values.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl ReportQuery {
    /// No filter, default sort, first page.
    pub fn new(kind: ReportKind) -> Self {
        let (sort, direction) = kind.default_sort();
        Self {
            filters: Vec::new(),
            sort: sort.to_owned(),
            direction,
            page: 1,
        }
    }

    /// Checks the query string's `pairs`; the error names the field and what is wrong
    /// with it. Parameters the report does not know are ignored.
    pub fn parse(kind: ReportKind, pairs: &[(String, String)]) -> Result<Self, String> {
        let value = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.trim())
                .filter(|value| !value.is_empty())
        };
        let mut query = Self::new(kind);
        for filter in kind.filters() {
            let Some(raw) = value(filter.name) else {
                continue;
            };
            let checked = match filter.kind {
                // Any identifier is checked as one (length, no control characters).
                FilterKind::Text => OrderId::parse(raw)
                    .map(String::from)
                    .map_err(|e| e.in_field(filter.label).to_string())?,
                FilterKind::Date => parse_date(raw)
                    .map(|date| date.to_string())
                    .map_err(|e| e.in_field(filter.label).to_string())?,
                FilterKind::Flag => match raw {
                    "1" | "on" | "true" => "1".to_owned(),
                    _ => return Err(format!("{} must be 1 or left out", filter.label)),
                },
            };
            query.filters.push((filter.name.to_owned(), checked));
        }
        if let (Some(from), Some(to)) = (query.get("from"), query.get("to"))
            && from > to
        {
            return Err(format!("{from} is after {to}: the period is empty"));
        }
        if let Some(sort) = value("sort") {
            if !kind.columns().iter().any(|column| column.key == sort) {
                let keys: Vec<_> = kind.columns().iter().map(|column| column.key).collect();
                return Err(format!("sort must be one of {}", keys.join(", ")));
            }
            query.sort = sort.to_owned();
        }
        query.direction = match value("dir") {
            None => query.direction,
            Some("asc") => Direction::Ascending,
            Some("desc") => Direction::Descending,
            Some(_) => return Err("dir must be asc or desc".to_owned()),
        };
        if let Some(page) = value("page") {
            query.page = page
                .parse()
                .ok()
                .filter(|page| (1..=MAX_PAGE).contains(page))
                .ok_or_else(|| format!("page must be a whole number from 1 to {MAX_PAGE}"))?;
        }
        Ok(query)
    }

    /// The value of the filter `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The query string (`?...`, or empty) that gives this query back.
    pub fn to_query_string(&self, kind: ReportKind) -> String {
        let mut pairs: Vec<(&str, String)> = self
            .filters
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect();
        if (self.sort.as_str(), self.direction) != kind.default_sort() {
            pairs.push(("sort", self.sort.clone()));
            pairs.push(("dir", self.direction.as_str().to_owned()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        if pairs.is_empty() {
            return String::new();
        }
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, QUERY_VALUE)))
            .collect();
        format!("?{}", encoded.join("&"))
    }

    /// Sorted by `key`: the other way round if it already is, from page 1.
    pub fn sorted_by(&self, key: &str) -> Self {
        let direction = if self.sort == key {
            self.direction.reversed()
        } else {
            Direction::Ascending
        };
        Self {
            sort: key.to_owned(),
            direction,
            page: 1,
            ..self.clone()
        }
    }

    pub fn on_page(&self, page: u32) -> Self {
        Self {
            page,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_query_reads_back_as_written() {
        let query = ReportQuery::parse(
            ReportKind::Allocations,
            &pairs(&[
                ("sku", " RED CHAIR "),
                ("from", "2026-01-01"),
                ("utm", "ignored"),
                ("sort", "qty"),
                ("dir", "asc"),
                ("page", "3"),
            ]),
        )
        .unwrap();
        assert_eq!(query.get("sku"), Some("RED CHAIR"));
        assert_eq!(query.page, 3);
        let written = query.to_query_string(ReportKind::Allocations);
        assert_eq!(
            written,
            "?from=2026-01-01&sku=RED%20CHAIR&sort=qty&dir=asc&page=3"
        );
    }

    #[test]
    fn defaults_are_left_out_of_links() {
        let query = ReportQuery::new(ReportKind::Stock);
        assert_eq!(query.to_query_string(ReportKind::Stock), "");
        let sorted = query.sorted_by("sku");
        assert_eq!(sorted.direction, Direction::Descending);
        assert_eq!(
            sorted.to_query_string(ReportKind::Stock),
            "?sort=sku&dir=desc"
        );
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        let refused = |raw: &[(&str, &str)]| {
            ReportQuery::parse(ReportKind::Allocations, &pairs(raw)).unwrap_err()
        };
        assert_eq!(
            refused(&[("from", "yesterday")]),
            "Allocated from must be a date as YYYY-MM-DD"
        );
        assert!(refused(&[("sort", "price")]).starts_with("sort must be one of"));
        assert!(refused(&[("page", "0")]).starts_with("page must be"));
        assert!(refused(&[("dir", "up")]).starts_with("dir must be"));
        assert!(refused(&[("from", "2026-02-01"), ("to", "2026-01-01")]).contains("empty"));
        assert!(refused(&[("order", &"x".repeat(65))]).starts_with("Order must be at most"));
        let flag = ReportQuery::parse(ReportKind::Stock, &pairs(&[("short", "maybe")]));
        assert!(flag.is_err());
    }
}

//! Reports: the stock position, the incoming schedule, allocations and out-of-stock
//! notices, each read from read models kept for it, filtered, sorted and paged by its
//! query string, and given as a page of rows (with totals and a chart) or as CSV.
//!
//! What each report offers (filters, columns) is declared here, for both targets: the
//! server checks queries against it, the browser draws forms and headings from it.

mod query;
#[cfg(feature = "ssr")]
mod sql;

pub use query::{Direction, ReportQuery};
#[cfg(feature = "ssr")]
pub use sql::{ReportError, Reports};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReportKind {
    Stock,
    Incoming,
    Allocations,
    OutOfStock,
}

/// A filter of a report's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    /// Its name in the query string.
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FilterKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// Free text: an identifier, matched whole (or within, where the label says so).
    Text,
    /// `YYYY-MM-DD`.
    Date,
    /// A checkbox: present (`1`) or not.
    Flag,
}

/// A column of a report's table and CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its name in `?sort=`.
    pub key: &'static str,
    pub title: &'static str,
    pub numeric: bool,
}

const fn text(key: &'static str, title: &'static str) -> Column {
    Column {
        key,
        title,
        numeric: false,
    }
}

const fn number(key: &'static str, title: &'static str) -> Column {
    Column {
        key,
        title,
        numeric: true,
    }
}

const SKU_CONTAINS: Filter = Filter {
    name: "sku",
    label: "SKU contains",
    kind: FilterKind::Text,
};
const SKU: Filter = Filter {
    name: "sku",
    label: "SKU",
    kind: FilterKind::Text,
};
const ORDER: Filter = Filter {
    name: "order",
    label: "Order",
    kind: FilterKind::Text,
};
const FROM: Filter = Filter {
    name: "from",
    label: "From",
    kind: FilterKind::Date,
};
const TO: Filter = Filter {
    name: "to",
    label: "To",
    kind: FilterKind::Date,
};

const STOCK_COLUMNS: [Column; 8] = [
    text("sku", "SKU"),
    number("purchased", "Purchased"),
    number("allocated", "Allocated"),
    number("available", "Available"),
    number("warehouse", "Available in warehouse"),
    number("incoming", "Available incoming"),
    number("lines", "Open lines"),
    text("next_eta", "Next ETA"),
];

const INCOMING_COLUMNS: [Column; 6] = [
    text("eta", "ETA"),
    text("reference", "Batch"),
    text("sku", "SKU"),
    number("purchased", "Purchased"),
    number("allocated", "Allocated"),
    number("available", "Available"),
];

const ALLOCATIONS_COLUMNS: [Column; 7] = [
    text("allocated_at", "Allocated"),
    text("orderid", "Order"),
    text("sku", "SKU"),
    number("qty", "Qty"),
    text("batchref", "Batch"),
    text("eta", "Expected"),
    text("allocated_by", "By"),
];

const OUT_OF_STOCK_COLUMNS: [Column; 5] = [
    text("noticed_at", "Noticed"),
    text("sku", "SKU"),
    number("qty", "Qty"),
    text("orderid", "Order"),
    text("status", "Status"),
];

impl ReportKind {
    pub const ALL: [Self; 4] = [
        Self::Stock,
        Self::Incoming,
        Self::Allocations,
        Self::OutOfStock,
    ];

    /// Its name in URLs: `/reports/<slug>`, `/reports/<slug>.csv`.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Stock => "stock",
            Self::Incoming => "incoming",
            Self::Allocations => "allocations",
            Self::OutOfStock => "out-of-stock",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Stock => "Stock position",
            Self::Incoming => "Incoming schedule",
            Self::Allocations => "Allocations",
            Self::OutOfStock => "Out of stock",
        }
    }

    /// The question the report answers.
    pub fn question(self) -> &'static str {
        match self {
            Self::Stock => "What can we ship today, and what is on its way, SKU by SKU?",
            Self::Incoming => "What arrives when, and how much of it is already promised?",
            Self::Allocations => {
                "Which order lines wait on which batch, and when can customers expect them?"
            }
            Self::OutOfStock => "Where do we keep running out?",
        }
    }

    pub fn filters(self) -> &'static [Filter] {
        match self {
            Self::Stock => &[
                SKU_CONTAINS,
                Filter {
                    name: "short",
                    label: "Only SKUs with nothing available",
                    kind: FilterKind::Flag,
                },
            ],
            Self::Incoming => &[
                Filter {
                    label: "ETA from",
                    ..FROM
                },
                Filter {
                    label: "ETA to",
                    ..TO
                },
                SKU_CONTAINS,
            ],
            Self::Allocations => &[
                Filter {
                    label: "Allocated from",
                    ..FROM
                },
                Filter {
                    label: "Allocated to",
                    ..TO
                },
                SKU,
                Filter {
                    name: "batch",
                    label: "Batch",
                    kind: FilterKind::Text,
                },
                ORDER,
                Filter {
                    name: "by",
                    label: "Allocated by",
                    kind: FilterKind::Text,
                },
            ],
            Self::OutOfStock => &[
                Filter {
                    label: "Noticed from",
                    ..FROM
                },
                Filter {
                    label: "Noticed to",
                    ..TO
                },
                SKU,
                ORDER,
            ],
        }
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Self::Stock => &STOCK_COLUMNS,
            Self::Incoming => &INCOMING_COLUMNS,
            Self::Allocations => &ALLOCATIONS_COLUMNS,
            Self::OutOfStock => &OUT_OF_STOCK_COLUMNS,
        }
    }

    /// The heading of the column of row warnings, for reports that flag rows.
    pub fn note_column(self) -> Option<&'static str> {
        match self {
            Self::Stock | Self::Incoming => Some("Note"),
            Self::Allocations | Self::OutOfStock => None,
        }
    }

    /// The order rows come in unless the query asks for another.
    pub fn default_sort(self) -> (&'static str, Direction) {
        match self {
            Self::Stock => ("sku", Direction::Ascending),
            Self::Incoming => ("eta", Direction::Ascending),
            Self::Allocations => ("allocated_at", Direction::Descending),
            Self::OutOfStock => ("noticed_at", Direction::Descending),
        }
    }

    /// The report's page under `/reports`.
    pub fn path(self) -> String {
        format!("/reports/{}", self.slug())
    }

    /// The report's rows as CSV.
    pub fn csv_path(self) -> String {
        format!("/reports/{}.csv", self.slug())
    }
}

/// One page of a report, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportPage {
    pub kind: ReportKind,
    pub query: ReportQuery,
    /// One cell per column, as text (the same text the CSV holds).
    pub rows: Vec<ReportRow>,
    /// Sums over every matching row, not only this page's; one cell per column.
    pub totals: Option<Vec<String>>,
    /// How many rows match the filters, on all pages.
    pub matching: i64,
    pub pages: u32,
    pub chart: Option<BarChart>,
    /// RFC 3339, UTC.
    pub generated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    pub cells: Vec<String>,
    /// A warning about the row ("Nothing available", "Overdue").
    pub flag: Option<String>,
    /// The group the row starts, when it starts one (the week of the incoming schedule).
    pub group: Option<String>,
}

/// Horizontal bars, one per category, each split into its series' values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarChart {
    pub title: String,
    /// What the bars' length measures (the value axis).
    pub value_axis: String,
    /// What the bars stand for (the category axis).
    pub category_axis: String,
    pub series: Vec<String>,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    pub label: String,
    /// One per series, stacked in series order.
    pub values: Vec<i64>,
}

/// Rows per page.
pub const PAGE_SIZE: i64 = 100;

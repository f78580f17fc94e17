//! The reports' queries, over the SQL read models: one page at a time, or every row
//! streamed as CSV, never the whole table in memory.

use chrono::{Datelike, Duration, NaiveDate};
use futures_util::{Stream, StreamExt};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::{Bar, BarChart, Direction, PAGE_SIZE, ReportKind, ReportPage, ReportQuery, ReportRow};
use crate::adapters::StoreError;
use crate::views::{eta_text, instant_text};

#[derive(Clone)]
pub struct Reports {
    pool: AnyPool,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing CSV: {0}")]
    Io(#[from] std::io::Error),
}

impl From<sqlx::Error> for ReportError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

/// Bytes of CSV sent at a time.
const CSV_CHUNK: usize = 64 * 1024;

/// Bars in a chart at most: more would not be readable.
const MAX_BARS: usize = 25;

/// A query's `WHERE` conditions and their parameters (all text), numbered as added.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    values: Vec<String>,
}

impl Conditions {
    /// Adds `condition`, in which `?` stands for `value`.
    fn add(&mut self, condition: &str, value: impl Into<String>) {
        self.values.push(value.into());
        let placeholder = format!("${}", self.values.len());
        self.sql.push(condition.replace('?', &placeholder));
    }

    /// `column` contains `text`, whatever the case.
    fn contains(&mut self, column: &str, text: &str) {
        let escaped = text
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        self.add(
            &format!("LOWER({column}) LIKE ? ESCAPE '\\'"),
            format!("%{escaped}%"),
        );
    }

    /// A timestamp `column` falls within the query's `from` and `to` days.
    fn period(&mut self, column: &str, query: &ReportQuery) {
        if let Some(from) = query.get("from") {
            self.add(&format!("{column} >= ?"), from);
        }
        if let Some(after) = query.get("to").and_then(next_day) {
            self.add(&format!("{column} < ?"), after);
        }
    }

    fn equals(&mut self, column: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.add(&format!("{column} = ?"), value);
        }
    }

    fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.sql.join(" AND "))
        }
    }

    fn bind<'q>(
        &'q self,
        sql: &'q str,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        self.values
            .iter()
            .fold(sqlx::query(sql), |query, value| query.bind(value))
    }
}

fn next_day(date: &str) -> Option<String> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some((date + Duration::days(1)).to_string())
}

/// What a report reads: its rows' source, their columns, and how it filters and sorts.
struct Source {
    /// `SELECT ... FROM ...`, the columns in the order [`cells`] reads them.
    select: &'static str,
    conditions: Conditions,
    /// The SQL of the sort key, then of a tie-breaker that makes the order total.
    order: (&'static str, &'static str),
    /// `SELECT` of the totals row over the same source: a count, then sums.
    totals: &'static str,
}

impl Source {
    fn of(kind: ReportKind, query: &ReportQuery) -> Self {
        let mut conditions = Conditions::default();
        let sort = query.sort.as_str();
        match kind {
            ReportKind::Stock => {
                if let Some(sku) = query.get("sku") {
                    conditions.contains("sku", sku);
                }
                if query.get("short").is_some() {
                    conditions.sql.push(format!("{AVAILABLE} <= 0"));
                }
                Self {
                    select: "SELECT sku, warehouse_purchased + incoming_purchased, \
                             warehouse_allocated + incoming_allocated, \
                             warehouse_purchased - warehouse_allocated, \
                             incoming_purchased - incoming_allocated, open_lines, next_eta \
                             FROM sku_stock_view",
                    conditions,
                    order: (
                        match sort {
                            "purchased" => "(warehouse_purchased + incoming_purchased)",
                            "allocated" => "(warehouse_allocated + incoming_allocated)",
                            "available" => AVAILABLE,
                            "warehouse" => "(warehouse_purchased - warehouse_allocated)",
                            "incoming" => "(incoming_purchased - incoming_allocated)",
                            "lines" => "open_lines",
                            // SKUs with nothing on its way last.
                            "next_eta" => "COALESCE(next_eta, '9999-12-31')",
                            _ => "sku",
                        },
                        "sku",
                    ),
                    totals: "SELECT COUNT(*), \
                             CAST(SUM(warehouse_purchased + incoming_purchased) AS BIGINT), \
                             CAST(SUM(warehouse_allocated + incoming_allocated) AS BIGINT), \
                             CAST(SUM(warehouse_purchased - warehouse_allocated) AS BIGINT), \
                             CAST(SUM(incoming_purchased - incoming_allocated) AS BIGINT), \
                             CAST(SUM(open_lines) AS BIGINT) FROM sku_stock_view",
                }
            }
            ReportKind::Incoming => {
                conditions.sql.push("eta IS NOT NULL".to_owned());
                if let Some(from) = query.get("from") {
                    conditions.add("eta >= ?", from);
                }
                if let Some(to) = query.get("to") {
                    conditions.add("eta <= ?", to);
                }
                if let Some(sku) = query.get("sku") {
                    conditions.contains("sku", sku);
                }
                Self {
                    select: "SELECT eta, reference, sku, purchased_quantity, allocated_quantity \
                             FROM batches_view",
                    conditions,
                    order: (
                        match sort {
                            "reference" => "reference",
                            "sku" => "sku",
                            "purchased" => "purchased_quantity",
                            "allocated" => "allocated_quantity",
                            "available" => "(purchased_quantity - allocated_quantity)",
                            _ => "eta",
                        },
                        "reference",
                    ),
                    totals: "SELECT COUNT(*), CAST(SUM(purchased_quantity) AS BIGINT), \
                             CAST(SUM(allocated_quantity) AS BIGINT) FROM batches_view",
                }
            }
            ReportKind::Allocations => {
                conditions.period("a.allocated_at", query);
                conditions.equals("a.sku", query.get("sku"));
                if let Some(batch) = query.get("batch") {
                    // Through the view's index on (sku, batchref): a batch holds one SKU.
                    conditions.add(
                        "a.sku = (SELECT sku FROM batches_view WHERE reference = ?) \
                         AND a.batchref = ?",
                        batch,
                    );
                }
                conditions.equals("a.orderid", query.get("order"));
                conditions.equals("a.allocated_by", query.get("by"));
                Self {
                    select: "SELECT a.allocated_at, a.orderid, a.sku, a.qty, a.batchref, b.eta, \
                             a.allocated_by \
                             FROM allocations_view a \
                             LEFT JOIN batches_view b ON b.reference = a.batchref",
                    conditions,
                    order: (
                        match sort {
                            "orderid" => "a.orderid",
                            "sku" => "a.sku",
                            "qty" => "a.qty",
                            "batchref" => "a.batchref",
                            // Warehouse stock (no ETA) first.
                            "eta" => "COALESCE(b.eta, '')",
                            "allocated_by" => "COALESCE(a.allocated_by, '')",
                            // Indexed with the tie-breaker: the first page reads 100 rows.
                            _ => "a.allocated_at",
                        },
                        "a.id",
                    ),
                    totals: "SELECT COUNT(*), CAST(SUM(a.qty) AS BIGINT) FROM allocations_view a",
                }
            }
            ReportKind::OutOfStock => {
                conditions.period("noticed_at", query);
                conditions.equals("sku", query.get("sku"));
                conditions.equals("orderid", query.get("order"));
                Self {
                    select: "SELECT noticed_at, sku, qty, orderid, resolved \
                             FROM out_of_stock_notices",
                    conditions,
                    order: (
                        match sort {
                            "sku" => "sku",
                            "qty" => "qty",
                            "orderid" => "orderid",
                            "status" => "resolved",
                            _ => "noticed_at",
                        },
                        "id",
                    ),
                    totals: "SELECT COUNT(*), CAST(SUM(qty) AS BIGINT) FROM out_of_stock_notices",
                }
            }
        }
    }

    fn rows_sql(&self, direction: Direction, page: Option<u32>) -> String {
        let direction = match direction {
            Direction::Ascending => "ASC",
            Direction::Descending => "DESC",
        };
        let (key, tie) = self.order;
        let mut sql = format!(
            "{}{} ORDER BY {key} {direction}, {tie} {direction}",
            self.select,
            self.conditions.where_clause()
        );
        if let Some(page) = page {
            let offset = i64::from(page - 1) * PAGE_SIZE;
            sql.push_str(&format!(" LIMIT {PAGE_SIZE} OFFSET {offset}"));
        }
        sql
    }
}

/// Units still free to allocate, in `sku_stock_view`.
const AVAILABLE: &str =
    "(warehouse_purchased + incoming_purchased - warehouse_allocated - incoming_allocated)";

/// A row of `kind`'s source as the table and the CSV show it.
fn cells(kind: ReportKind, row: &AnyRow, today: NaiveDate) -> Result<ReportRow, sqlx::Error> {
    let text = |index: usize| row.try_get::<String, _>(index);
    let optional = |index: usize| row.try_get::<Option<String>, _>(index);
    let number = |index: usize| row.try_get::<i64, _>(index);
    let mut flag = None;
    let cells = match kind {
        ReportKind::Stock => {
            let (warehouse, incoming) = (number(3)?, number(4)?);
            let available = warehouse + incoming;
            if available <= 0 {
                flag = Some("Nothing available".to_owned());
            }
            vec![
                text(0)?,
                number(1)?.to_string(),
                number(2)?.to_string(),
                available.to_string(),
                warehouse.to_string(),
                incoming.to_string(),
                number(5)?.to_string(),
                optional(6)?.unwrap_or_default(),
            ]
        }
        ReportKind::Incoming => {
            let eta = text(0)?;
            if eta.as_str() < today.to_string().as_str() {
                flag = Some("Overdue".to_owned());
            }
            let (purchased, allocated) = (number(3)?, number(4)?);
            vec![
                eta,
                text(1)?,
                text(2)?,
                purchased.to_string(),
                allocated.to_string(),
                (purchased - allocated).to_string(),
            ]
        }
        ReportKind::Allocations => vec![
            optional(0)?.map(|at| instant_text(&at)).unwrap_or_default(),
            text(1)?,
            text(2)?,
            number(3)?.to_string(),
            text(4)?,
            eta_text(optional(5)?.as_deref()),
            optional(6)?.unwrap_or_else(|| "—".to_owned()),
        ],
        ReportKind::OutOfStock => vec![
            instant_text(&text(0)?),
            text(1)?,
            number(2)?.to_string(),
            text(3)?,
            if number(4)? == 0 {
                "waiting".to_owned()
            } else {
                "allocated since".to_owned()
            },
        ],
    };
    Ok(ReportRow {
        cells,
        flag,
        group: None,
    })
}

/// The Monday of the week `date` (`YYYY-MM-DD`) falls in.
fn week_of(date: &str) -> Option<NaiveDate> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some(date - Duration::days(i64::from(date.weekday().num_days_from_monday())))
}

impl Reports {
    /// The latest commands, of one actor when `actor` is given: the command log.
    pub async fn activity(
        &self,
        actor: Option<&str>,
    ) -> Result<Vec<crate::views::activity::ActivityEntry>, StoreError> {
        crate::views::activity::latest(&self.pool, actor).await
    }

    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// One page of the report, with the totals over every matching row and a chart.
    pub async fn page(
        &self,
        kind: ReportKind,
        query: ReportQuery,
        today: NaiveDate,
    ) -> Result<ReportPage, ReportError> {
        let source = Source::of(kind, &query);
        let sql = source.rows_sql(query.direction, Some(query.page));
        let mut rows = source
            .conditions
            .bind(&sql)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| cells(kind, row, today))
            .collect::<Result<Vec<_>, _>>()?;
        if kind == ReportKind::Incoming && query.sort == "eta" {
            mark_weeks(&mut rows);
        }
        let totals_sql = format!("{}{}", source.totals, source.conditions.where_clause());
        let totals = source
            .conditions
            .bind(&totals_sql)
            .fetch_one(&self.pool)
            .await?;
        let sum = |index: usize| sum_at(&totals, index);
        let matching: i64 = totals.try_get(0)?;
        let totals = totals_row(kind, matching, &sum)?;
        let chart = self.chart(kind, &query, &source, &rows).await?;
        Ok(ReportPage {
            kind,
            pages: u32::try_from((matching + PAGE_SIZE - 1) / PAGE_SIZE).unwrap_or(u32::MAX),
            query,
            rows,
            totals: Some(totals),
            matching,
            chart,
            generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
    }

    /// Every matching row as CSV (RFC 4180, UTF-8, header row), in chunks, read from
    /// the database as it is sent.
    pub fn csv(
        &self,
        kind: ReportKind,
        query: ReportQuery,
        today: NaiveDate,
    ) -> impl Stream<Item = Result<Vec<u8>, ReportError>> + Send + 'static {
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let written = write_csv(&pool, kind, &query, today, &sender).await;
            if let Err(error) = written {
                tracing::error!(%error, "writing a report's CSV failed");
                let _ = sender.send(Err(error)).await;
            }
        });
        futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        })
    }

    async fn chart(
        &self,
        kind: ReportKind,
        query: &ReportQuery,
        source: &Source,
        rows: &[ReportRow],
    ) -> Result<Option<BarChart>, ReportError> {
        let chart = match kind {
            // The SKUs on this page, as listed.
            ReportKind::Stock => BarChart {
                title: "Allocated and available units per SKU".to_owned(),
                value_axis: "Units".to_owned(),
                category_axis: "SKU".to_owned(),
                series: vec!["Allocated".to_owned(), "Available".to_owned()],
                bars: rows
                    .iter()
                    .take(MAX_BARS)
                    .map(|row| Bar {
                        label: row.cells[0].clone(),
                        values: vec![
                            row.cells[2].parse().unwrap_or(0),
                            row.cells[3].parse::<i64>().unwrap_or(0).max(0),
                        ],
                    })
                    .collect(),
            },
            ReportKind::Incoming => {
                let sql = format!(
                    "SELECT eta, CAST(SUM(purchased_quantity) AS BIGINT), \
                     CAST(SUM(allocated_quantity) AS BIGINT) \
                     FROM batches_view{} GROUP BY eta ORDER BY eta",
                    source.conditions.where_clause()
                );
                let days = source.conditions.bind(&sql).fetch_all(&self.pool).await?;
                let mut bars: Vec<Bar> = Vec::new();
                for day in &days {
                    let eta: String = day.try_get(0)?;
                    let (purchased, allocated) = (sum_at(day, 1)?, sum_at(day, 2)?);
                    let label = week_of(&eta).map(|w| w.to_string()).unwrap_or(eta);
                    if let Some(bar) = bars.last_mut().filter(|bar| bar.label == label) {
                        bar.values[0] += allocated;
                        bar.values[1] += purchased - allocated;
                    } else if bars.len() == MAX_BARS {
                        break;
                    } else {
                        bars.push(Bar {
                            label,
                            values: vec![allocated, purchased - allocated],
                        });
                    }
                }
                BarChart {
                    title: "Incoming units per week".to_owned(),
                    value_axis: "Units".to_owned(),
                    category_axis: "Week of (Monday)".to_owned(),
                    series: vec!["Allocated".to_owned(), "Not yet allocated".to_owned()],
                    bars,
                }
            }
            ReportKind::Allocations => {
                // The last days with allocations, found through the index rather than
                // by grouping every line.
                let latest_sql = format!(
                    "SELECT MAX(a.allocated_at) FROM allocations_view a{}",
                    source.conditions.where_clause()
                );
                let latest: Option<String> = source
                    .conditions
                    .bind(&latest_sql)
                    .fetch_one(&self.pool)
                    .await?
                    .try_get(0)?;
                let Some(first_day) = latest
                    .as_deref()
                    .and_then(|at| at.get(..10))
                    .and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
                    .map(|day| day - Duration::days(MAX_BARS as i64 - 1))
                else {
                    return Ok(None);
                };
                let mut conditions = Source::of(kind, query).conditions;
                conditions.add("a.allocated_at >= ?", first_day.to_string());
                let sql = format!(
                    "SELECT SUBSTR(a.allocated_at, 1, 10), CAST(SUM(a.qty) AS BIGINT) \
                     FROM allocations_view a{} \
                     GROUP BY SUBSTR(a.allocated_at, 1, 10) \
                     ORDER BY SUBSTR(a.allocated_at, 1, 10) DESC LIMIT {MAX_BARS}",
                    conditions.where_clause()
                );
                let days = conditions.bind(&sql).fetch_all(&self.pool).await?;
                let mut bars = days
                    .iter()
                    .map(|day| {
                        Ok(Bar {
                            label: day.try_get(0)?,
                            values: vec![sum_at(day, 1)?],
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?;
                bars.reverse();
                BarChart {
                    title: "Units allocated per day".to_owned(),
                    value_axis: "Units".to_owned(),
                    category_axis: "Day (UTC)".to_owned(),
                    series: vec!["Allocated".to_owned()],
                    bars,
                }
            }
            ReportKind::OutOfStock => {
                let sql = format!(
                    "SELECT sku, COUNT(*) FROM out_of_stock_notices{} \
                     GROUP BY sku ORDER BY COUNT(*) DESC, sku LIMIT {MAX_BARS}",
                    source.conditions.where_clause()
                );
                let skus = source.conditions.bind(&sql).fetch_all(&self.pool).await?;
                BarChart {
                    title: "Out-of-stock notices per SKU".to_owned(),
                    value_axis: "Notices".to_owned(),
                    category_axis: "SKU".to_owned(),
                    series: vec!["Notices".to_owned()],
                    bars: skus
                        .iter()
                        .map(|sku| {
                            Ok(Bar {
                                label: sku.try_get(0)?,
                                values: vec![sku.try_get(1)?],
                            })
                        })
                        .collect::<Result<_, sqlx::Error>>()?,
                }
            }
        };
        Ok((!chart.bars.is_empty()).then_some(chart))
    }
}

/// A sum at `index` (cast to BIGINT: PostgreSQL sums to NUMERIC); none over no rows.
fn sum_at(row: &AnyRow, index: usize) -> Result<i64, sqlx::Error> {
    Ok(row.try_get::<Option<i64>, _>(index)?.unwrap_or(0))
}

/// Starts a group at each new week of the incoming schedule (rows sorted by ETA).
fn mark_weeks(rows: &mut [ReportRow]) {
    let mut current = None;
    for row in rows {
        let week = week_of(&row.cells[0]);
        if week != current {
            row.group = week.map(|monday| format!("Week of {monday}"));
            current = week;
        }
    }
}

/// The totals row: the count under the first column, sums under the numbers summed.
fn totals_row(
    kind: ReportKind,
    matching: i64,
    sum: &dyn Fn(usize) -> Result<i64, sqlx::Error>,
) -> Result<Vec<String>, sqlx::Error> {
    let count =
        |one: &str, many: &str| format!("{matching} {}", if matching == 1 { one } else { many });
    Ok(match kind {
        ReportKind::Stock => {
            let (purchased, allocated) = (sum(1)?, sum(2)?);
            let (warehouse, incoming) = (sum(3)?, sum(4)?);
            vec![
                count("SKU", "SKUs"),
                purchased.to_string(),
                allocated.to_string(),
                (warehouse + incoming).to_string(),
                warehouse.to_string(),
                incoming.to_string(),
                sum(5)?.to_string(),
                String::new(),
            ]
        }
        ReportKind::Incoming => {
            let (purchased, allocated) = (sum(1)?, sum(2)?);
            vec![
                count("batch", "batches"),
                String::new(),
                String::new(),
                purchased.to_string(),
                allocated.to_string(),
                (purchased - allocated).to_string(),
            ]
        }
        ReportKind::Allocations => vec![
            count("line", "lines"),
            String::new(),
            String::new(),
            sum(1)?.to_string(),
            String::new(),
            String::new(),
            String::new(),
        ],
        ReportKind::OutOfStock => vec![
            count("notice", "notices"),
            String::new(),
            sum(1)?.to_string(),
            String::new(),
            String::new(),
        ],
    })
}

async fn write_csv(
    pool: &AnyPool,
    kind: ReportKind,
    query: &ReportQuery,
    today: NaiveDate,
    sender: &tokio::sync::mpsc::Sender<Result<Vec<u8>, ReportError>>,
) -> Result<(), ReportError> {
    let source = Source::of(kind, query);
    let sql = source.rows_sql(query.direction, None);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = kind.columns().iter().map(|column| column.title).collect();
    header.extend(kind.note_column());
    writer.write_record(&header)?;
    let mut rows = source.conditions.bind(&sql).fetch(pool);
    while let Some(row) = rows.next().await {
        let row = cells(kind, &row?, today)?;
        let note = kind.note_column().map(|_| row.flag.unwrap_or_default());
        writer.write_record(row.cells.iter().map(String::as_str).chain(note.as_deref()))?;
        if writer.get_ref().len() >= CSV_CHUNK {
            let full = std::mem::replace(&mut writer, csv::Writer::from_writer(Vec::new()));
            let chunk = full.into_inner().map_err(|e| e.into_error())?;
            if sender.send(Ok(chunk)).await.is_err() {
                // The client went away.
                return Ok(());
            }
        }
    }
    let rest = writer.into_inner().map_err(|e| e.into_error())?;
    let _ = sender.send(Ok(rest)).await;
    Ok(())
}

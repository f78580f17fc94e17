//! One way to run statements, whichever connection they go to: a sqlx connection
//! (PostgreSQL) or an SQLite connection that runs them in place (the writer, see
//! [`super::writer`], and the views' readers, see [`super::reader`]). The SQL is the
//! same for both: parameters are `$1`, `$2`, ... wherever they appear in the statement.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row};

use super::Query;
use crate::adapters::StoreError;

/// A value bound to a statement's parameter.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}

impl From<i64> for Value<'_> {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(value: &'a str) -> Self {
        Self::Text(value)
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(value: Option<&'a str>) -> Self {
        value.map_or(Self::Null, Self::Text)
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match *self {
            Self::Int(value) => ToSqlOutput::from(value),
            Self::Text(value) => ToSqlOutput::Borrowed(ValueRef::Text(value.as_bytes())),
            Self::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// A column type both drivers read.
pub trait Column:
    rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + Send
{
}

impl<T> Column for T where
    T: rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + Send
{
}

/// A row read into a tuple of columns, in the order selected.
pub trait Record: Sized + Send {
    fn from_sqlx(row: &AnyRow) -> Result<Self, sqlx::Error>;
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! record {
    ($($column:ident $index:tt),+) => {
        impl<$($column: Column),+> Record for ($($column,)+) {
            fn from_sqlx(row: &AnyRow) -> Result<Self, sqlx::Error> {
                Ok(($(row.try_get::<$column, _>($index)?,)+))
            }

            fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $column>($index)?,)+))
            }
        }
    };
}

record!(A 0);
record!(A 0, B 1);
record!(A 0, B 1, C 2);
record!(A 0, B 1, C 2, D 3);
record!(A 0, B 1, C 2, D 3, E 4);
record!(A 0, B 1, C 2, D 3, E 4, F 5);
record!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);

/// Where a statement runs.
pub(super) enum Executor<'c> {
    Sqlx(&'c mut AnyConnection),
    /// SQLite's writer, run in place: each statement takes microseconds, less than
    /// the hand-off to a worker thread and back that sqlx spends on it.
    Sqlite(&'c mut rusqlite::Connection),
}

impl Executor<'_> {
    /// Runs a statement that returns no rows; answers how many rows it changed.
    pub(super) async fn execute(self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        match self {
            Self::Sqlx(connection) => Ok(query(sql, params)
                .execute(connection)
                .await?
                .rows_affected()),
            Self::Sqlite(connection) => {
                let changed = prepare(connection, sql, params)?.raw_execute()?;
                Ok(changed as u64)
            }
        }
    }

    /// The first row the statement returns, if any.
    pub(super) async fn fetch_optional<R: Record>(
        self,
        sql: &str,
        params: &[Value<'_>],
    ) -> Result<Option<R>, StoreError> {
        Ok(self.fetch_all(sql, params).await?.into_iter().next())
    }

    /// Every row the statement returns.
    pub(super) async fn fetch_all<R: Record>(
        self,
        sql: &str,
        params: &[Value<'_>],
    ) -> Result<Vec<R>, StoreError> {
        match self {
            Self::Sqlx(connection) => Ok(query(sql, params)
                .fetch_all(connection)
                .await?
                .iter()
                .map(R::from_sqlx)
                .collect::<Result<_, _>>()?),
            Self::Sqlite(connection) => fetch_in_place(connection, sql, params),
        }
    }
}

/// Every row the statement returns, read in place on an SQLite connection.
pub(super) fn fetch_in_place<R: Record>(
    connection: &rusqlite::Connection,
    sql: &str,
    params: &[Value<'_>],
) -> Result<Vec<R>, StoreError> {
    let mut statement = prepare(connection, sql, params)?;
    let mut rows = statement.raw_query();
    let mut records = Vec::new();
    while let Some(row) = rows.next()? {
        records.push(R::from_sqlite(row)?);
    }
    Ok(records)
}

fn query<'q>(sql: &'q str, params: &'q [Value<'q>]) -> Query<'q> {
    params
        .iter()
        .fold(sqlx::query(sql), |query, value| match *value {
            Value::Int(value) => query.bind(value),
            Value::Text(value) => query.bind(value),
            Value::Null => query.bind(None::<&str>),
        })
}

/// The statement from the connection's cache, its `$n` parameters bound to the n-th
/// value, as sqlx binds them.
fn prepare<'c>(
    connection: &'c rusqlite::Connection,
    sql: &str,
    params: &[Value<'_>],
) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut statement = connection.prepare_cached(sql)?;
    for index in 1..=statement.parameter_count() {
        let value = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$')?.parse::<usize>().ok())
            .and_then(|n| params.get(n.checked_sub(1)?));
        let Some(value) = value else {
            let name = statement.parameter_name(index).unwrap_or("?");
            return Err(rusqlite::Error::InvalidParameterName(name.to_owned()));
        };
        statement.raw_bind_parameter(index, value)?;
    }
    Ok(statement)
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error() {
            // As with sqlx: another writer inserted the same key first.
            Some(failure)
                if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                Self::Conflict(error.to_string())
            }
            _ => Self::Backend(Box::new(error)),
        }
    }
}

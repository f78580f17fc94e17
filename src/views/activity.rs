//! The command log, read back: who did what, newest first. Kept in SQL whatever
//! `READ_MODEL` says, like the reports.

use serde::{Deserialize, Serialize};

/// One command that took effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    /// What was done, in words, e.g. "Allocated 2 × LAMP of order o1".
    pub what: String,
}

#[cfg(feature = "ssr")]
mod sql {
    use sqlx::AnyPool;

    use super::ActivityEntry;
    use crate::adapters::StoreError;
    use crate::domain::commands::Command;

    /// How many entries a page shows.
    const ACTIVITY_PAGE: i64 = 100;

    /// The latest commands, of one actor when `actor` is given.
    pub async fn latest(
        pool: &AnyPool,
        actor: Option<&str>,
    ) -> Result<Vec<ActivityEntry>, StoreError> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT at, actor, command, payload FROM command_log \
             WHERE $1 IS NULL OR actor = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(actor)
        .bind(ACTIVITY_PAGE)
        .fetch_all(pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, actor, command, payload)| ActivityEntry {
                at,
                actor,
                what: describe(&command, &payload),
            })
            .collect())
    }

    /// The command in words; its name alone if it cannot be read back.
    fn describe(name: &str, payload: &str) -> String {
        let tagged = format!("{{{}:{payload}}}", serde_json::Value::from(name));
        match serde_json::from_str::<Command>(&tagged) {
            Ok(Command::CreateBatch(c)) => match c.eta {
                Some(eta) => format!(
                    "Added batch {} of {} × {}, due {eta}",
                    c.reference, c.qty, c.sku
                ),
                None => format!(
                    "Added batch {} of {} × {}, in the warehouse",
                    c.reference, c.qty, c.sku
                ),
            },
            Ok(Command::ChangeBatchQuantity(c)) => {
                format!("Changed the quantity of batch {} to {}", c.reference, c.qty)
            }
            Ok(Command::Allocate(c)) => format!(
                "Allocated {} × {} of order {}",
                c.line.qty, c.line.sku, c.line.orderid
            ),
            Ok(Command::Deallocate(c)) => format!(
                "Deallocated {} × {} of order {}",
                c.line.qty, c.line.sku, c.line.orderid
            ),
            Err(_) => name.to_owned(),
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn commands_read_back_in_words() {
            assert_eq!(
                super::describe(
                    "Allocate",
                    r#"{"line":{"orderid":"o1","sku":"LAMP","qty":2}}"#
                ),
                "Allocated 2 × LAMP of order o1"
            );
            assert_eq!(super::describe("Recount", "{}"), "Recount");
        }
    }
}

#[cfg(feature = "ssr")]
pub(crate) use sql::latest;

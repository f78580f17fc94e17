//! Replacing the read models in Redis with a state computed from the write model.

use std::collections::HashMap;

use redis::AsyncCommands;

use super::{RedisReadModel, joined, split};

/// A batch as the write model has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchState {
    pub reference: String,
    pub sku: String,
    pub eta: Option<String>,
    pub purchased: i64,
    pub allocated: i64,
    pub changed_by: Option<String>,
}

/// An allocated line as the write model has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineState {
    pub orderid: String,
    pub sku: String,
    pub qty: i64,
    pub batchref: String,
    pub allocated_by: Option<String>,
}

/// Deletes the keys matching each pattern in ARGV. Inside the rebuild's MULTI, so no
/// update lands between the deletion and the new state.
const DELETE_MATCHING: &str = "for _, pattern in ipairs(ARGV) do \
     for _, key in ipairs(redis.call('KEYS', pattern)) do redis.call('DEL', key) end end";

/// Hash fields and set members written per command.
const CHUNK: usize = 1000;

impl RedisReadModel {
    /// Replaces batches and allocations, in one atomic step, with `batches` and `lines`
    /// (in the order allocated), stamped with update id `newest`. Out-of-stock notices
    /// stay, and so does each line's last allocation, which tells which notices it resolved.
    pub async fn replace(
        &self,
        newest: i64,
        batches: &[BatchState],
        lines: &[LineState],
    ) -> redis::RedisResult<()> {
        let mut connection = self.connection();
        let known: HashMap<String, String> = connection.hgetall(self.key("lines")).await?;
        let stamp = newest.to_string();

        let mut states: HashMap<String, String> = known
            .iter()
            .map(|(field, state)| {
                let allocated = split::<3>(state).map_or("0", |[_, allocated, _]| allocated);
                (field.clone(), joined([&stamp, allocated, ""]))
            })
            .collect();
        let mut by_order: HashMap<&str, Vec<(i64, String)>> = HashMap::new();
        let mut by_batch: HashMap<&str, Vec<(i64, String)>> = HashMap::new();
        let mut allocated_by = Vec::new();
        // Scores below `newest`, in the order allocated, so later updates sort after.
        let first = newest - i64::try_from(lines.len()).unwrap_or(i64::MAX);
        for (score, line) in (first..).zip(lines) {
            let qty = line.qty.to_string();
            states.insert(
                joined([&line.orderid, &line.sku, &qty]),
                joined([&stamp, &stamp, &line.batchref]),
            );
            by_order
                .entry(line.orderid.as_str())
                .or_default()
                .push((score, joined([&line.sku, &qty, &line.batchref])));
            by_batch
                .entry(line.batchref.as_str())
                .or_default()
                .push((score, joined([&line.orderid, &qty])));
            if let Some(by) = &line.allocated_by {
                allocated_by.push((joined([&line.orderid, &line.sku, &qty]), by.clone()));
            }
        }

        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("EVAL")
            .arg(DELETE_MATCHING)
            .arg(0)
            .arg(self.pattern("batch:*"))
            .arg(self.pattern("batch-lines:*"))
            .arg(self.pattern("order-lines:*"))
            .arg(self.pattern("sku-batches:*"))
            .ignore();
        pipe.del(&[
            self.key("lines"),
            self.key("line-by"),
            self.key("batches"),
            self.key("skus"),
        ])
        .ignore();
        for chunk in allocated_by.chunks(CHUNK) {
            pipe.hset_multiple(self.key("line-by"), chunk).ignore();
        }
        let states: Vec<_> = states.into_iter().collect();
        for chunk in states.chunks(CHUNK) {
            pipe.hset_multiple(self.key("lines"), chunk).ignore();
        }
        for (orderid, members) in &by_order {
            for chunk in members.chunks(CHUNK) {
                pipe.zadd_multiple(self.key(&format!("order-lines:{orderid}")), chunk)
                    .ignore();
            }
        }
        for (batchref, members) in &by_batch {
            for chunk in members.chunks(CHUNK) {
                pipe.zadd_multiple(self.key(&format!("batch-lines:{batchref}")), chunk)
                    .ignore();
            }
        }
        for batch in batches {
            let fields = [
                ("sku", batch.sku.clone()),
                ("eta", batch.eta.clone().unwrap_or_default()),
                ("purchased", batch.purchased.to_string()),
                ("purchased_id", stamp.clone()),
                ("allocated", batch.allocated.to_string()),
                ("changed_by", batch.changed_by.clone().unwrap_or_default()),
            ];
            pipe.hset_multiple(self.key(&format!("batch:{}", batch.reference)), &fields)
                .ignore()
                .sadd(self.key("batches"), &batch.reference)
                .ignore()
                .sadd(
                    self.key(&format!("sku-batches:{}", batch.sku)),
                    &batch.reference,
                )
                .ignore()
                .sadd(self.key("skus"), &batch.sku)
                .ignore();
        }
        pipe.query_async::<()>(&mut connection).await
    }

    /// A `KEYS` pattern for the keys `name_pattern` under this prefix, whatever the
    /// prefix contains.
    fn pattern(&self, name_pattern: &str) -> String {
        let mut escaped = String::new();
        for c in self.key("").chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        escaped + name_pattern
    }
}

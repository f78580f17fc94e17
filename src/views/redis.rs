//! Queries over the read models in Redis (layout: `adapters::redis_read_model`).

use std::collections::BTreeMap;

use redis::AsyncCommands;

use super::{BatchAllocation, BatchSummary, OrderAllocation, OutOfStockNotice, SkuStock};
use crate::adapters::StoreError;
use crate::adapters::redis_read_model::{RedisReadModel, joined, split};
use crate::domain::values::{BatchRef, OrderId, Sku};

#[derive(Clone)]
pub struct RedisViews {
    model: RedisReadModel,
}

/// A value Redis holds that the read model never writes.
fn corrupt(key: &str, value: &str) -> StoreError {
    StoreError::Backend(format!("read model in Redis: {key} holds {value:?}").into())
}

fn number(key: &str, value: &str) -> Result<i64, StoreError> {
    value.parse().map_err(|_| corrupt(key, value))
}

impl RedisViews {
    pub fn new(model: RedisReadModel) -> Self {
        Self { model }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(redis::cmd("PING")
            .query_async::<()>(&mut self.model.connection())
            .await?)
    }

    pub async fn allocations(&self, orderid: &OrderId) -> Result<Vec<OrderAllocation>, StoreError> {
        let key = self.model.key(&format!("order-lines:{orderid}"));
        let members: Vec<String> = self.model.connection().zrange(&key, 0, -1).await?;
        let mut allocations = members
            .iter()
            .map(|member| {
                let [sku, qty, batchref] = split(member).ok_or_else(|| corrupt(&key, member))?;
                Ok(OrderAllocation {
                    sku: sku.to_owned(),
                    qty: number(&key, qty)?,
                    batchref: batchref.to_owned(),
                    allocated_by: None,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let lines = allocations
            .iter()
            .map(|a| joined([orderid.as_str(), &a.sku, &a.qty.to_string()]));
        let by = self.allocated_by(lines.collect()).await?;
        for (allocation, by) in allocations.iter_mut().zip(by) {
            allocation.allocated_by = by;
        }
        Ok(allocations)
    }

    pub async fn stock(&self) -> Result<Vec<SkuStock>, StoreError> {
        let mut stock: BTreeMap<String, SkuStock> = BTreeMap::new();
        for batch in self.batches(None).await? {
            let sku = stock.entry(batch.sku.clone()).or_insert_with(|| SkuStock {
                sku: batch.sku.clone(),
                purchased: 0,
                allocated: 0,
                available: 0,
                batches: 0,
                next_eta: None,
            });
            sku.purchased += batch.purchased;
            sku.allocated += batch.allocated;
            sku.available += batch.available;
            sku.batches += 1;
            // Batches come warehouse stock first, then by ETA: the first ETA is the next.
            if sku.next_eta.is_none() {
                sku.next_eta = batch.eta;
            }
        }
        Ok(stock.into_values().collect())
    }

    pub async fn skus(&self) -> Result<Vec<String>, StoreError> {
        let mut skus: Vec<String> = self
            .model
            .connection()
            .smembers(self.model.key("skus"))
            .await?;
        skus.sort();
        Ok(skus)
    }

    pub async fn batches(&self, sku: Option<&Sku>) -> Result<Vec<BatchSummary>, StoreError> {
        let listing = match sku {
            Some(sku) => self.model.key(&format!("sku-batches:{sku}")),
            None => self.model.key("batches"),
        };
        let references: Vec<String> = self.model.connection().smembers(listing).await?;
        if references.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for reference in &references {
            pipe.hgetall(self.batch_key(reference));
        }
        let fields: Vec<BTreeMap<String, String>> =
            pipe.query_async(&mut self.model.connection()).await?;
        let mut batches = references
            .iter()
            .zip(&fields)
            .filter_map(|(reference, fields)| self.summary(reference, fields).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        batches.sort_by(|a, b| {
            (&a.sku, a.eta.is_some(), &a.eta, &a.reference).cmp(&(
                &b.sku,
                b.eta.is_some(),
                &b.eta,
                &b.reference,
            ))
        });
        Ok(batches)
    }

    pub async fn batch(&self, reference: &BatchRef) -> Result<Option<BatchSummary>, StoreError> {
        let fields: BTreeMap<String, String> = self
            .model
            .connection()
            .hgetall(self.batch_key(reference.as_str()))
            .await?;
        self.summary(reference.as_str(), &fields)
    }

    pub async fn batch_allocations(
        &self,
        reference: &BatchRef,
    ) -> Result<Vec<BatchAllocation>, StoreError> {
        let key = self.model.key(&format!("batch-lines:{reference}"));
        let members: Vec<String> = self.model.connection().zrange(&key, 0, -1).await?;
        let mut allocations = members
            .iter()
            .map(|member| {
                let [orderid, qty] = split(member).ok_or_else(|| corrupt(&key, member))?;
                Ok(BatchAllocation {
                    orderid: orderid.to_owned(),
                    qty: number(&key, qty)?,
                    allocated_by: None,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let sku: Option<String> = self
            .model
            .connection()
            .hget(self.batch_key(reference.as_str()), "sku")
            .await?;
        if let Some(sku) = sku {
            let lines = allocations
                .iter()
                .map(|a| joined([&a.orderid, &sku, &a.qty.to_string()]));
            let by = self.allocated_by(lines.collect()).await?;
            for (allocation, by) in allocations.iter_mut().zip(by) {
                allocation.allocated_by = by;
            }
        }
        Ok(allocations)
    }

    pub async fn latest_out_of_stock(
        &self,
        limit: i64,
    ) -> Result<Vec<OutOfStockNotice>, StoreError> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let key = self.model.key("notices");
        let members: Vec<String> = self
            .model
            .connection()
            .zrevrange(&key, 0, isize::try_from(limit - 1).unwrap_or(isize::MAX))
            .await?;
        members
            .iter()
            .map(|member| notice(&key, member).map(|(_, notice)| notice))
            .collect()
    }

    pub async fn unallocated_lines(
        &self,
        orderid: &OrderId,
    ) -> Result<Vec<OutOfStockNotice>, StoreError> {
        let key = self.model.key(&format!("order-notices:{orderid}"));
        let members: Vec<String> = self.model.connection().zrange(&key, 0, -1).await?;
        let notices = members
            .iter()
            .map(|member| notice(&key, member))
            .collect::<Result<Vec<_>, _>>()?;
        if notices.is_empty() {
            return Ok(Vec::new());
        }
        // When each line was last allocated, if ever: that resolved its notices before.
        let fields: Vec<String> = notices
            .iter()
            .map(|(_, n)| joined([&n.orderid, &n.sku, &n.qty.to_string()]))
            .collect();
        let lines = self.model.key("lines");
        let states: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(&lines)
            .arg(&fields)
            .query_async(&mut self.model.connection())
            .await?;
        let mut waiting: Vec<OutOfStockNotice> = Vec::new();
        for ((id, notice), state) in notices.into_iter().zip(states) {
            let allocated = match state.as_deref() {
                Some(state) => match split::<3>(state) {
                    Some([_, allocated, _]) => number(&lines, allocated)?,
                    None => return Err(corrupt(&lines, state)),
                },
                None => 0,
            };
            if id <= allocated {
                continue;
            }
            // In the order first noticed, each line once with its latest notice.
            match waiting
                .iter_mut()
                .find(|w| w.sku == notice.sku && w.qty == notice.qty)
            {
                Some(earlier) => earlier.noticed_at = notice.noticed_at,
                None => waiting.push(notice),
            }
        }
        Ok(waiting)
    }

    /// Who allocated each of `lines` (`orderid|sku|qty`), where known.
    async fn allocated_by(&self, lines: Vec<String>) -> Result<Vec<Option<String>>, StoreError> {
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        let by: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.model.key("line-by"))
            .arg(&lines)
            .query_async(&mut self.model.connection())
            .await?;
        Ok(by
            .into_iter()
            .map(|by| by.filter(|by| !by.is_empty()))
            .collect())
    }

    fn batch_key(&self, reference: &str) -> String {
        self.model.key(&format!("batch:{reference}"))
    }

    /// The batch from its hash; `None` if it was never created (or only counted by an
    /// allocation applied ahead of its creation).
    fn summary(
        &self,
        reference: &str,
        fields: &BTreeMap<String, String>,
    ) -> Result<Option<BatchSummary>, StoreError> {
        let Some(sku) = fields.get("sku") else {
            return Ok(None);
        };
        let key = self.batch_key(reference);
        let count = |name: &str| match fields.get(name) {
            Some(value) => number(&key, value),
            None => Ok(0),
        };
        let (purchased, allocated) = (count("purchased")?, count("allocated")?);
        Ok(Some(BatchSummary {
            reference: reference.to_owned(),
            sku: sku.clone(),
            eta: fields.get("eta").filter(|eta| !eta.is_empty()).cloned(),
            purchased,
            allocated,
            available: purchased - allocated,
            changed_by: fields
                .get("changed_by")
                .filter(|by| !by.is_empty())
                .cloned(),
        }))
    }
}

/// A notice member: `id|orderid|sku|qty|noticed_at`.
fn notice(key: &str, member: &str) -> Result<(i64, OutOfStockNotice), StoreError> {
    let [id, orderid, sku, qty, noticed_at] = split(member).ok_or_else(|| corrupt(key, member))?;
    Ok((
        number(key, id)?,
        OutOfStockNotice {
            orderid: orderid.to_owned(),
            sku: sku.to_owned(),
            qty: number(key, qty)?,
            noticed_at: noticed_at.to_owned(),
        },
    ))
}

//! The product repository over SQL: a product is its row, its batches and their
//! allocations; saving writes only what changed since it was loaded.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::{SqlTransaction, bind_line, corrupt};
use crate::adapters::StoreError;
use crate::adapters::repository::ProductRepository;
use crate::domain::model::{Batch, OrderLine, Product};
use crate::domain::values::{BatchRef, OrderId, Quantity, Sku};

/// A product with its batches and their lines, in one query: one statement is one
/// snapshot, and one round trip to the database.
const PRODUCT: &str = "SELECT p.version_number, b.reference, b.purchased_quantity, b.eta, \
    a.orderid, a.qty \
    FROM products p \
    LEFT JOIN batches b ON b.sku = p.sku \
    LEFT JOIN allocations a ON a.batch_id = b.id \
    WHERE p.sku = $1 ORDER BY b.id, a.id";

/// A row of [`PRODUCT`]: one per line, one per batch without lines, and one for a
/// product without batches.
#[derive(sqlx::FromRow)]
struct ProductRow {
    version_number: i64,
    reference: Option<String>,
    purchased_quantity: Option<i64>,
    eta: Option<String>,
    orderid: Option<String>,
    qty: Option<i64>,
}

/// A batch whose lines are still being read.
struct Restoring {
    reference: BatchRef,
    purchased: Quantity,
    eta: Option<NaiveDate>,
    lines: Vec<OrderLine>,
}

impl Restoring {
    fn new(reference: String, row: &ProductRow) -> Result<Self, StoreError> {
        let eta = row
            .eta
            .as_deref()
            .map(|eta| eta.parse::<NaiveDate>().map_err(|_| corrupt("ETA", eta)))
            .transpose()?;
        Ok(Self {
            reference: BatchRef::parse(&reference)
                .map_err(|_| corrupt("batch reference", &reference))?,
            purchased: quantity(
                row.purchased_quantity
                    .ok_or_else(|| corrupt("purchased quantity", "NULL"))?,
            )?,
            eta,
            lines: Vec::new(),
        })
    }

    fn finish(self, sku: &Sku) -> Batch {
        Batch::restore(
            self.reference,
            sku.clone(),
            self.purchased,
            self.eta,
            self.lines,
        )
    }
}

fn quantity(units: i64) -> Result<Quantity, StoreError> {
    Quantity::new(units).map_err(|_| corrupt("quantity", units))
}

fn restore(sku: &Sku, rows: Vec<ProductRow>) -> Result<Option<Product>, StoreError> {
    let Some(version) = rows.first().map(|row| row.version_number) else {
        return Ok(None);
    };
    let version = u64::try_from(version).map_err(|_| corrupt("version", version))?;
    let mut batches = Vec::new();
    let mut restoring: Option<Restoring> = None;
    for row in rows {
        let Some(reference) = row.reference.clone() else {
            continue;
        };
        // Rows come batch by batch: a new reference starts the next batch.
        if restoring
            .as_ref()
            .is_none_or(|batch| batch.reference.as_str() != reference)
        {
            batches.extend(restoring.take().map(|batch| batch.finish(sku)));
            restoring = Some(Restoring::new(reference, &row)?);
        }
        if let (Some(orderid), Some(qty), Some(batch)) = (row.orderid, row.qty, &mut restoring) {
            batch.lines.push(OrderLine {
                orderid: OrderId::parse(&orderid).map_err(|_| corrupt("order id", &orderid))?,
                sku: sku.clone(),
                qty: quantity(qty)?,
            });
        }
    }
    batches.extend(restoring.map(|batch| batch.finish(sku)));
    Ok(Some(Product::restore(sku.clone(), batches, version)))
}

#[async_trait]
impl ProductRepository for SqlTransaction {
    async fn get(&mut self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let rows: Vec<ProductRow> = sqlx::query_as(PRODUCT)
            .bind(sku.as_str())
            .fetch_all(self.connections.for_reading().await?)
            .await?;
        restore(sku, rows)
    }

    async fn sku_of_batch(&mut self, reference: &BatchRef) -> Result<Option<Sku>, StoreError> {
        let sku: Option<String> =
            sqlx::query_scalar("SELECT sku FROM batches WHERE reference = $1")
                .bind(reference.as_str())
                .fetch_optional(self.connections.for_reading().await?)
                .await?;
        sku.map(|sku| Sku::parse(&sku).map_err(|_| corrupt("SKU", sku)))
            .transpose()
    }

    async fn save(
        &mut self,
        loaded: Option<&Product>,
        product: &Product,
    ) -> Result<(), StoreError> {
        let before = |batch: &Batch| loaded.and_then(|p| p.batch(batch.reference()));
        let held_before = |batch: &Batch| before(batch).map(Batch::allocations).unwrap_or_default();
        // A line freed by a quantity change and allocated again, even to the batch it
        // left, is a new allocation: recorded anew, with its new time and author.
        let freed: HashSet<&OrderLine> = product.freed_lines().iter().collect();
        self.save_version(loaded, product).await?;
        for batch in product.batches() {
            self.save_batch(before(batch), batch).await?;
        }
        // Removals first: a line moving between batches leaves one before joining another.
        // Sets, not scans: a batch may hold thousands of lines, and comparing each with
        // each was most of a write's time.
        for batch in product.batches() {
            let held_now: HashSet<&OrderLine> = batch.allocations().iter().collect();
            for line in held_before(batch)
                .iter()
                .filter(|l| !held_now.contains(l) || freed.contains(l))
            {
                self.delete_allocation(line).await?;
            }
        }
        for batch in product.batches() {
            let kept: HashSet<&OrderLine> = held_before(batch).iter().collect();
            for line in batch
                .allocations()
                .iter()
                .filter(|l| !kept.contains(l) || freed.contains(l))
            {
                self.insert_allocation(batch.reference(), line).await?;
            }
        }
        Ok(())
    }
}

impl SqlTransaction {
    /// The compare-and-set that makes concurrent writers of one product detect each
    /// other: only the writer that read the current version may replace it.
    async fn save_version(
        &mut self,
        loaded: Option<&Product>,
        product: &Product,
    ) -> Result<(), StoreError> {
        let sku = product.sku().as_str();
        let new_version = product.version_number() as i64;
        let updated = match loaded {
            None => sqlx::query(
                "INSERT INTO products (sku, version_number) VALUES ($1, $2) \
                 ON CONFLICT (sku) DO NOTHING",
            )
            .bind(sku)
            .bind(new_version),
            Some(loaded) => sqlx::query(
                "UPDATE products SET version_number = $2 WHERE sku = $1 AND version_number = $3",
            )
            .bind(sku)
            .bind(new_version)
            .bind(loaded.version_number() as i64),
        }
        .execute(self.connections.for_writing().await?)
        .await?
        .rows_affected();
        if updated == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "product {sku} is no longer at version {}",
                loaded.map_or(0, Product::version_number)
            )))
        }
    }

    async fn save_batch(
        &mut self,
        before: Option<&Batch>,
        batch: &Batch,
    ) -> Result<(), StoreError> {
        let reference = batch.reference().as_str();
        let qty = i64::from(batch.purchased_quantity().get());
        match before {
            None => {
                sqlx::query(
                    "INSERT INTO batches (reference, sku, purchased_quantity, eta, changed_by) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(reference)
                .bind(batch.sku().as_str())
                .bind(qty)
                .bind(batch.eta().map(|eta| eta.to_string()))
                .bind(&self.actor)
                .execute(self.connections.for_writing().await?)
                .await?;
            }
            Some(before) if before.purchased_quantity() != batch.purchased_quantity() => {
                sqlx::query(
                    "UPDATE batches SET purchased_quantity = $2, changed_by = $3 \
                     WHERE reference = $1",
                )
                .bind(reference)
                .bind(qty)
                .bind(&self.actor)
                .execute(self.connections.for_writing().await?)
                .await?;
            }
            Some(_) => {}
        }
        Ok(())
    }

    async fn delete_allocation(&mut self, line: &OrderLine) -> Result<(), StoreError> {
        bind_line(
            sqlx::query("DELETE FROM allocations WHERE orderid = $1 AND sku = $2 AND qty = $3"),
            line,
        )
        .execute(self.connections.for_writing().await?)
        .await?;
        Ok(())
    }

    async fn insert_allocation(
        &mut self,
        reference: &BatchRef,
        line: &OrderLine,
    ) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO allocations (batch_id, orderid, sku, qty, allocated_at, allocated_by) \
             SELECT id, $1, $2, $3, $5, $6 FROM batches WHERE reference = $4",
        );
        bind_line(insert, line)
            .bind(reference.as_str())
            .bind(&self.started_at)
            .bind(&self.actor)
            .execute(self.connections.for_writing().await?)
            .await?;
        Ok(())
    }
}

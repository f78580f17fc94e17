//! The product repository over SQL: a product is its row, its batches and their
//! allocations; saving writes only what changed since it was loaded.

use std::collections::HashSet;
use std::iter::Peekable;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::{SqlTransaction, corrupt, line_values};
use crate::adapters::StoreError;
use crate::adapters::repository::ProductRepository;
use crate::domain::model::{Batch, OrderLine, Product};
use crate::domain::values::{BatchRef, OrderId, Quantity, Sku};

/// A batch's row: id, reference, purchased quantity, ETA.
type BatchRow = (i64, String, i64, Option<String>);

/// An allocation's row: its batch's id, order, quantity.
type LineRow = (i64, String, i64);

fn quantity(units: i64) -> Result<Quantity, StoreError> {
    Quantity::new(units).map_err(|_| corrupt("quantity", units))
}

fn line(sku: &Sku, (_, orderid, qty): LineRow) -> Result<OrderLine, StoreError> {
    let orderid = OrderId::parse(&orderid).map_err(|_| corrupt("order id", &orderid))?;
    Ok(OrderLine {
        orderid,
        sku: sku.clone(),
        qty: quantity(qty)?,
    })
}

/// A batch with its lines: the next of `lines` while they are the batch's. Lines of a
/// batch not read are passed over: on PostgreSQL, a batch added between the two
/// queries; the product's version has then moved on, and its save is refused.
fn batch(
    sku: &Sku,
    (id, reference, purchased_quantity, eta): BatchRow,
    lines: &mut Peekable<impl Iterator<Item = LineRow>>,
) -> Result<Batch, StoreError> {
    while lines.next_if(|(batch_id, _, _)| *batch_id < id).is_some() {}
    let mut lines: Vec<OrderLine> =
        std::iter::from_fn(|| lines.next_if(|(batch_id, _, _)| *batch_id == id))
            .map(|row| line(sku, row))
            .collect::<Result<_, _>>()?;
    // Held for long (`Products`): no room to spare.
    lines.shrink_to_fit();
    let reference =
        BatchRef::parse(&reference).map_err(|_| corrupt("batch reference", &reference))?;
    let eta = eta
        .map(|eta| eta.parse::<NaiveDate>().map_err(|_| corrupt("ETA", eta)))
        .transpose()?;
    Ok(Batch::restore(
        reference,
        sku.clone(),
        quantity(purchased_quantity)?,
        eta,
        lines,
    ))
}

/// Whether a batch holds the lines it was loaded with. A product's copies share each
/// batch's lines until one changes them, so the same lines at the same address are the
/// same, without comparing every order id (profiled: 2% of a write).
fn unchanged(before: &[OrderLine], now: &[OrderLine]) -> bool {
    std::ptr::eq(before, now) || before == now
}

#[async_trait]
impl ProductRepository for SqlTransaction {
    async fn get(&mut self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        // On PostgreSQL each query sees the latest commit: the version comes first, so
        // a product changed while its rows are read is a product whose saved version
        // moved on: its save is refused, and as held (`Products`) it is never used, as
        // that version is never stored again. (On SQLite no other writer runs meanwhile.)
        let params = [sku.as_str().into()];
        let version: Option<(i64,)> = self
            .writes
            .executor()
            .fetch_optional(
                "SELECT version_number FROM products WHERE sku = $1",
                &params,
            )
            .await?;
        let Some((version,)) = version else {
            return Ok(None);
        };
        let version = u64::try_from(version).map_err(|_| corrupt("version", version))?;
        if let Some(product) = self.products.get(sku, version) {
            return Ok(Some(product));
        }
        let batch_rows: Vec<BatchRow> = self
            .writes
            .executor()
            .fetch_all(
                "SELECT id, reference, purchased_quantity, eta FROM batches WHERE sku = $1 \
                 ORDER BY id",
                &params,
            )
            .await?;
        // In the batches' order, each batch's lines in the order allocated: merged with
        // the batches in one pass, and on SQLite read in index order, without a sort.
        let line_rows: Vec<LineRow> = self
            .writes
            .executor()
            .fetch_all(
                "SELECT a.batch_id, a.orderid, a.qty \
                 FROM batches b JOIN allocations a ON a.batch_id = b.id \
                 WHERE b.sku = $1 ORDER BY b.id, a.id",
                &params,
            )
            .await?;
        let mut lines = line_rows.into_iter().peekable();
        let batches = batch_rows
            .into_iter()
            .map(|row| batch(sku, row, &mut lines))
            .collect::<Result<_, _>>()?;
        let product = Product::restore(sku.clone(), batches, version);
        self.products.hold(product.clone());
        Ok(Some(product))
    }

    async fn sku_of_batch(&mut self, reference: &BatchRef) -> Result<Option<Sku>, StoreError> {
        let sku: Option<(String,)> = self
            .writes
            .executor()
            .fetch_optional(
                "SELECT sku FROM batches WHERE reference = $1",
                &[reference.as_str().into()],
            )
            .await?;
        sku.map(|(sku,)| Sku::parse(&sku).map_err(|_| corrupt("SKU", sku)))
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
        // Most changes touch one batch's lines; the others are passed over after a
        // comparison, without hashing every line they hold (profiled).
        let changed: Vec<&Batch> = product
            .batches()
            .iter()
            .filter(|batch| {
                !freed.is_empty() || !unchanged(held_before(batch), batch.allocations())
            })
            .collect();
        // Removals first: a line moving between batches leaves one before joining another.
        // Sets, not scans: a batch may hold thousands of lines, and comparing each with
        // each was most of a write's time.
        for &batch in &changed {
            let held_now: HashSet<&OrderLine> = batch.allocations().iter().collect();
            for line in held_before(batch)
                .iter()
                .filter(|l| !held_now.contains(l) || freed.contains(l))
            {
                self.delete_allocation(line).await?;
            }
        }
        for batch in changed {
            let kept: HashSet<&OrderLine> = held_before(batch).iter().collect();
            for line in batch
                .allocations()
                .iter()
                .filter(|l| !kept.contains(l) || freed.contains(l))
            {
                self.insert_allocation(batch.reference(), line).await?;
            }
        }
        self.saved.push(Product::restore(
            product.sku().clone(),
            product.batches().to_vec(),
            product.version_number(),
        ));
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
        let writes = self.writes.executor();
        let updated = match loaded {
            None => {
                writes
                    .execute(
                        "INSERT INTO products (sku, version_number) VALUES ($1, $2) \
                         ON CONFLICT (sku) DO NOTHING",
                        &[sku.into(), new_version.into()],
                    )
                    .await?
            }
            Some(loaded) => {
                let loaded_version = loaded.version_number() as i64;
                writes
                    .execute(
                        "UPDATE products SET version_number = $2 \
                         WHERE sku = $1 AND version_number = $3",
                        &[sku.into(), new_version.into(), loaded_version.into()],
                    )
                    .await?
            }
        };
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
                let eta = batch.eta().map(|eta| eta.to_string());
                let params = [
                    reference.into(),
                    batch.sku().as_str().into(),
                    qty.into(),
                    eta.as_deref().into(),
                    self.actor.as_str().into(),
                ];
                self.writes
                    .executor()
                    .execute(
                        "INSERT INTO batches (reference, sku, purchased_quantity, eta, changed_by) \
                         VALUES ($1, $2, $3, $4, $5)",
                        &params,
                    )
                    .await?;
            }
            Some(before) if before.purchased_quantity() != batch.purchased_quantity() => {
                let params = [reference.into(), qty.into(), self.actor.as_str().into()];
                self.writes
                    .executor()
                    .execute(
                        "UPDATE batches SET purchased_quantity = $2, changed_by = $3 \
                         WHERE reference = $1",
                        &params,
                    )
                    .await?;
            }
            Some(_) => {}
        }
        Ok(())
    }

    async fn delete_allocation(&mut self, line: &OrderLine) -> Result<(), StoreError> {
        self.writes
            .executor()
            .execute(
                "DELETE FROM allocations WHERE orderid = $1 AND sku = $2 AND qty = $3",
                &line_values(line),
            )
            .await?;
        Ok(())
    }

    async fn insert_allocation(
        &mut self,
        reference: &BatchRef,
        line: &OrderLine,
    ) -> Result<(), StoreError> {
        let [orderid, sku, qty] = line_values(line);
        let params = [
            orderid,
            sku,
            qty,
            reference.as_str().into(),
            self.started_at.as_str().into(),
            self.actor.as_str().into(),
        ];
        self.writes
            .executor()
            .execute(
                "INSERT INTO allocations (batch_id, orderid, sku, qty, allocated_at, allocated_by) \
                 SELECT id, $1, $2, $3, $5, $6 FROM batches WHERE reference = $4",
                &params,
            )
            .await?;
        Ok(())
    }
}

//! Products as this store last loaded or committed them, so that a write need not read
//! a product's rows again: loading a product's 200 lines was over a third of a write's
//! time (profiled). A held product is used only while its version is the stored one;
//! every change to a product, by this process or another, moves its version on, and
//! versions never return, so a product changed elsewhere is read afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::domain::model::Product;
use crate::domain::values::Sku;

/// At most this many batches and lines are held, about 150 bytes each (36 MB when
/// full, measured): the seeded warehouse of the load benchmark (20,000 batches,
/// 200,000 lines) fits whole.
const MAX_WEIGHT: usize = 250_000;

#[derive(Default)]
pub(super) struct Products {
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    products: HashMap<Sku, Arc<Product>>,
    weight: usize,
}

fn weight(product: &Product) -> usize {
    product
        .batches()
        .iter()
        .map(|batch| 1 + batch.allocations().len())
        .sum()
}

impl Products {
    /// The product as held, if it is still at the stored `version`.
    pub(super) fn get(&self, sku: &Sku, version: u64) -> Option<Product> {
        let held = self
            .held()
            .products
            .get(sku)
            .filter(|product| product.version_number() == version)
            .cloned()?;
        // Copied out of the lock: other writers' lookups need not wait for it.
        Some(Product::clone(&held))
    }

    /// Holds `product`, as stored at its version, in place of an older one. When the
    /// products held grow too heavy, others make room, whichever the map yields first.
    pub(super) fn hold(&self, product: Product) {
        let added = weight(&product);
        if added > MAX_WEIGHT {
            return;
        }
        let sku = product.sku().clone();
        let mut held = self.held();
        let held = &mut *held;
        if let Some(replaced) = held.products.insert(sku.clone(), Arc::new(product)) {
            held.weight -= weight(&replaced);
        }
        held.weight += added;
        while held.weight > MAX_WEIGHT {
            let Some(evicted) = held.products.keys().find(|other| **other != sku).cloned() else {
                break;
            };
            if let Some(evicted) = held.products.remove(&evicted) {
                held.weight -= weight(&evicted);
            }
        }
    }

    /// A panic while the map was held cannot come between an insert or removal and
    /// its weight (`weight` does not panic), so a poisoned lock is taken all the same.
    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

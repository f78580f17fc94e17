//! Products as this store last loaded or committed them, so that a write need not read
//! a product's rows again: loading a product's 200 lines was over a third of a write's
//! time (profiled). A held product is used only while its version is the stored one;
//! every change to a product, by this process or another, moves its version on, and
//! versions never return, so a product changed elsewhere is read afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::domain::model::Product;
use crate::domain::values::Sku;

/// What a batch or a line held costs, about: 250,000 of them took 36 MB (measured).
const BYTES_PER_ITEM: usize = 150;

/// The products held by default fit in this much memory: the load benchmark's
/// warehouse (20,000 batches, 200,000 lines) and as many lines again.
pub const DEFAULT_PRODUCT_CACHE_MB: usize = 64;

/// Held products, weighed in batches and lines (and one for each product).
pub(super) struct Products {
    held: Mutex<Held>,
    max_weight: usize,
}

impl Default for Products {
    fn default() -> Self {
        Self::within(DEFAULT_PRODUCT_CACHE_MB)
    }
}

#[derive(Default)]
struct Held {
    products: HashMap<Sku, Arc<Product>>,
    weight: usize,
}

fn weight(product: &Product) -> usize {
    let batches: usize = product
        .batches()
        .iter()
        .map(|batch| 1 + batch.allocations().len())
        .sum();
    // The product itself weighs one, so that a budget of 0 holds none.
    1 + batches
}

impl Products {
    /// Products held in about `megabytes` of memory; none with 0. A write whose
    /// product is not held reads all its rows: when the products written do not fit,
    /// writes slow down (by a quarter at 64 connections in the load benchmark, measured).
    pub(super) fn within(megabytes: usize) -> Self {
        Self {
            held: Mutex::default(),
            max_weight: megabytes.saturating_mul(1 << 20) / BYTES_PER_ITEM,
        }
    }

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

    /// Holds `product`, as stored at its version, in place of an older one. Writers
    /// hold what they committed after their commits, in any order: a product newer
    /// than this one stays. When the products held grow too heavy, others make room,
    /// whichever the map yields first.
    pub(super) fn hold(&self, product: Product) {
        let added = weight(&product);
        if added > self.max_weight {
            return;
        }
        let sku = product.sku().clone();
        let mut held = self.held();
        let held = &mut *held;
        if held
            .products
            .get(&sku)
            .is_some_and(|newer| newer.version_number() > product.version_number())
        {
            return;
        }
        if let Some(replaced) = held.products.insert(sku.clone(), Arc::new(product)) {
            held.weight -= weight(&replaced);
        }
        held.weight += added;
        while held.weight > self.max_weight {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Batch, OrderLine};
    use crate::domain::values::{BatchRef, OrderId, Quantity};

    /// A product of one batch holding `lines` lines: `lines + 1` batches and lines.
    fn product(sku: &str, lines: usize) -> Product {
        product_at(sku, lines, 7)
    }

    fn product_at(sku: &str, lines: usize, version: u64) -> Product {
        let sku = Sku::parse(sku).unwrap();
        let lines = (0..lines)
            .map(|n| OrderLine {
                orderid: OrderId::parse(&format!("order-{n}")).unwrap(),
                sku: sku.clone(),
                qty: Quantity::new(1).unwrap(),
            })
            .collect();
        let reference = BatchRef::parse(&format!("{sku}-batch")).unwrap();
        let batch = Batch::restore(
            reference,
            sku.clone(),
            Quantity::new(1).unwrap(),
            None,
            lines,
        );
        Product::restore(sku, vec![batch], version)
    }

    fn held(products: &Products, sku: &str) -> bool {
        products.get(&Sku::parse(sku).unwrap(), 7).is_some()
    }

    #[test]
    fn products_beyond_the_budget_make_room_for_the_latest() {
        // 1 MB holds about 7,000 batches and lines: one of these products, not two.
        let products = Products::within(1);
        products.hold(product("LAMP", 4_000));
        assert!(held(&products, "LAMP"));
        products.hold(product("RUG", 4_000));
        assert!(held(&products, "RUG"));
        assert!(!held(&products, "LAMP"));
        // Held only at the version it was stored at.
        assert!(products.get(&Sku::parse("RUG").unwrap(), 8).is_none());
    }

    #[test]
    fn a_product_heavier_than_the_budget_is_not_held() {
        let products = Products::within(1);
        products.hold(product("RUG", 4_000));
        products.hold(product("LAMP", 8_000));
        assert!(!held(&products, "LAMP"));
        assert!(held(&products, "RUG"));
        let none = Products::within(0);
        none.hold(product("RUG", 1));
        none.hold(Product::new(Sku::parse("LAMP").unwrap()));
        assert!(!held(&none, "RUG"));
        assert!(none.get(&Sku::parse("LAMP").unwrap(), 0).is_none());
    }

    #[test]
    fn a_product_held_is_not_replaced_by_an_older_version() {
        let products = Products::within(1);
        products.hold(product_at("LAMP", 2, 8));
        products.hold(product_at("LAMP", 1, 7));
        let lamp = Sku::parse("LAMP").unwrap();
        assert!(products.get(&lamp, 7).is_none());
        assert!(products.get(&lamp, 8).is_some());
        products.hold(product_at("LAMP", 3, 9));
        assert!(products.get(&lamp, 9).is_some());
    }
}

//! The book's `test_batches.py` and `test_product.py`, and the rules this project adds.

use super::*;

fn sku(raw: &str) -> Sku {
    Sku::parse(raw).unwrap()
}

fn qty(units: i64) -> Quantity {
    Quantity::new(units).unwrap()
}

fn line(orderid: &str, sku_: &str, units: i64) -> OrderLine {
    OrderLine {
        orderid: OrderId::parse(orderid).unwrap(),
        sku: sku(sku_),
        qty: qty(units),
    }
}

fn batch(reference: &str, sku_: &str, units: i64, eta: Option<NaiveDate>) -> Batch {
    Batch::new(
        BatchRef::parse(reference).unwrap(),
        sku(sku_),
        qty(units),
        eta,
    )
}

fn day(d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2011, 1, d)
}

fn product(batches: Vec<Batch>) -> Product {
    let sku = batches[0].sku().clone();
    Product::restore(sku, batches, 3)
}

fn reference(raw: &str) -> BatchRef {
    BatchRef::parse(raw).unwrap()
}

fn batch_and_line(batch_units: i64, line_units: i64) -> (Batch, OrderLine) {
    (
        batch("batch-001", "ELEGANT-LAMP", batch_units, None),
        line("order-123", "ELEGANT-LAMP", line_units),
    )
}

// --- test_batches.py ---

#[test]
fn allocating_to_a_batch_reduces_the_available_quantity() {
    let (mut batch, line) = batch_and_line(20, 2);
    batch.allocate(line);
    assert_eq!(batch.available_quantity(), 18);
    assert_eq!(batch.allocated_quantity(), 2);
}

#[test]
fn can_allocate_if_available_greater_than_required() {
    let (batch, line) = batch_and_line(20, 2);
    assert!(batch.can_allocate(&line));
}

#[test]
fn cannot_allocate_if_available_smaller_than_required() {
    let (batch, line) = batch_and_line(2, 20);
    assert!(!batch.can_allocate(&line));
}

#[test]
fn can_allocate_if_available_equal_to_required() {
    let (batch, line) = batch_and_line(2, 2);
    assert!(batch.can_allocate(&line));
}

#[test]
fn cannot_allocate_if_skus_do_not_match() {
    let batch = batch("batch-001", "UNCOMFORTABLE-CHAIR", 100, None);
    assert!(!batch.can_allocate(&line("order-123", "EXPENSIVE-TOASTER", 10)));
}

#[test]
fn batch_allocation_is_idempotent() {
    let (mut batch, line) = batch_and_line(20, 2);
    batch.allocate(line.clone());
    batch.allocate(line);
    assert_eq!(batch.available_quantity(), 18);
}

#[test]
fn batch_can_only_deallocate_allocated_lines() {
    let (mut batch, unallocated) = batch_and_line(20, 2);
    assert!(!batch.deallocate(&unallocated));
    assert_eq!(batch.available_quantity(), 20);
}

// --- test_product.py ---

#[test]
fn prefers_warehouse_batches_to_shipments() {
    let mut product = product(vec![
        batch("shipment-batch", "RETRO-CLOCK", 100, day(2)),
        batch("in-stock-batch", "RETRO-CLOCK", 100, None),
    ]);
    product.allocate(line("oref", "RETRO-CLOCK", 10));
    assert_eq!(product.batches()[1].available_quantity(), 90);
    assert_eq!(product.batches()[0].available_quantity(), 100);
}

#[test]
fn prefers_earlier_batches() {
    let mut product = product(vec![
        batch("slow-batch", "MINIMALIST-SPOON", 100, day(3)),
        batch("speedy-batch", "MINIMALIST-SPOON", 100, day(1)),
        batch("normal-batch", "MINIMALIST-SPOON", 100, day(2)),
    ]);
    let allocated = product.allocate(line("order1", "MINIMALIST-SPOON", 10));
    assert_eq!(allocated, Some(reference("speedy-batch")));
    assert_eq!(product.batches()[0].available_quantity(), 100);
    assert_eq!(product.batches()[1].available_quantity(), 90);
    assert_eq!(product.batches()[2].available_quantity(), 100);
}

#[test]
fn skips_batches_too_small_for_the_whole_line() {
    let mut product = product(vec![
        batch("small-in-stock", "SOFA", 5, None),
        batch("big-shipment", "SOFA", 50, day(1)),
    ]);
    let allocated = product.allocate(line("order1", "SOFA", 10));
    assert_eq!(allocated, Some(reference("big-shipment")));
}

#[test]
fn among_equal_batches_the_first_added_wins() {
    let mut product = product(vec![
        batch("first", "SOFA", 50, day(1)),
        batch("second", "SOFA", 50, day(1)),
    ]);
    assert_eq!(
        product.allocate(line("order1", "SOFA", 10)),
        Some(reference("first"))
    );
}

#[test]
fn returns_allocated_batch_ref_and_records_allocated_event() {
    let mut product = product(vec![
        batch("in-stock-batch-ref", "HIGHBROW-POSTER", 100, None),
        batch("shipment-batch-ref", "HIGHBROW-POSTER", 100, day(2)),
    ]);
    let line = line("oref", "HIGHBROW-POSTER", 10);
    let allocated = product.allocate(line.clone());
    assert_eq!(allocated, Some(reference("in-stock-batch-ref")));
    assert_eq!(
        product.events(),
        [Event::Allocated(Allocated {
            line,
            batchref: reference("in-stock-batch-ref"),
        })]
    );
}

#[test]
fn records_out_of_stock_event_if_cannot_allocate() {
    let mut product = product(vec![batch("batch1", "SMALL-FORK", 10, day(1))]);
    product.allocate(line("order1", "SMALL-FORK", 10));
    let too_many = line("order2", "SMALL-FORK", 1);
    let allocated = product.allocate(too_many.clone());
    assert_eq!(allocated, None);
    assert_eq!(
        product.events().last(),
        Some(&Event::OutOfStock(OutOfStock { line: too_many }))
    );
}

#[test]
fn increments_version_number_on_allocation_only_when_something_changes() {
    let mut product = product(vec![batch("b1", "SCANDI-PEN", 10, None)]);
    let line = line("oref", "SCANDI-PEN", 10);
    product.allocate(line.clone());
    assert_eq!(product.version_number(), 4);
    product.allocate(line);
    assert_eq!(product.version_number(), 4, "re-allocating is a no-op");
    product.allocate(self::line("other", "SCANDI-PEN", 1));
    assert_eq!(product.version_number(), 4, "out of stock changes nothing");
}

#[test]
fn allocating_the_same_line_twice_is_a_no_op() {
    let mut product = product(vec![
        batch("b1", "LAMP", 10, None),
        batch("b2", "LAMP", 10, None),
    ]);
    let line = line("o1", "LAMP", 10);
    assert_eq!(product.allocate(line.clone()), Some(reference("b1")));
    product.take_events();
    assert_eq!(product.allocate(line), Some(reference("b1")));
    assert!(product.events().is_empty());
    assert_eq!(product.batches()[1].available_quantity(), 10);
}

#[test]
fn take_events_empties_the_list() {
    let mut product = product(vec![batch("b1", "LAMP", 10, None)]);
    product.allocate(line("o1", "LAMP", 1));
    assert_eq!(product.take_events().len(), 1);
    assert!(product.events().is_empty());
}

// --- batches ---

#[test]
fn add_batch_records_the_batch() {
    let mut product = Product::new(sku("LAMP"));
    product.add_batch(batch("b1", "LAMP", 10, day(5))).unwrap();
    assert_eq!(product.version_number(), 1);
    assert_eq!(
        product.events(),
        [Event::BatchCreated(BatchCreated {
            reference: reference("b1"),
            sku: sku("LAMP"),
            qty: qty(10),
            eta: day(5),
        })]
    );
}

#[test]
fn add_batch_refuses_a_duplicate_reference_and_another_sku() {
    let mut product = Product::new(sku("LAMP"));
    product.add_batch(batch("b1", "LAMP", 10, None)).unwrap();
    product.take_events();
    assert_eq!(
        product.add_batch(batch("b1", "LAMP", 5, None)),
        Err(DomainError::DuplicateBatch(reference("b1")))
    );
    assert!(matches!(
        product.add_batch(batch("b2", "CHAIR", 5, None)),
        Err(DomainError::SkuMismatch { .. })
    ));
    assert_eq!(product.batches().len(), 1);
    assert!(product.events().is_empty());
}

// --- deallocation ---

#[test]
fn deallocate_returns_the_units_and_records_a_cancellation() {
    let mut product = product(vec![batch("b1", "LAMP", 10, None)]);
    let line = line("o1", "LAMP", 4);
    product.allocate(line.clone());
    product.take_events();
    assert_eq!(product.deallocate(&line), Ok(reference("b1")));
    assert_eq!(product.batches()[0].available_quantity(), 10);
    assert_eq!(product.version_number(), 5);
    assert_eq!(
        product.events(),
        [Event::AllocationCancelled(AllocationCancelled {
            line,
            batchref: reference("b1"),
        })]
    );
}

#[test]
fn deallocate_frees_the_line_from_the_batch_that_holds_it_and_keeps_the_others_in_order() {
    let mut product = product(vec![
        batch("in-stock", "LAMP", 3, None),
        batch("shipment", "LAMP", 10, day(2)),
    ]);
    // o1 to o3 fill the stock in the warehouse; o4 to o6 go to the shipment.
    let lines = [1, 2, 3, 4, 5, 6].map(|n| line(&format!("o{n}"), "LAMP", 1));
    for l in &lines {
        product.allocate(l.clone());
    }
    assert_eq!(product.deallocate(&lines[4]), Ok(reference("shipment")));
    assert_eq!(product.batches()[0].allocations(), &lines[..3]);
    assert_eq!(
        product.batches()[1].allocations(),
        [lines[3].clone(), lines[5].clone()]
    );
}

#[test]
fn deallocate_refuses_a_line_that_is_not_allocated() {
    let mut product = product(vec![batch("b1", "LAMP", 10, None)]);
    product.allocate(line("o1", "LAMP", 4));
    let other = line("o1", "LAMP", 5);
    assert_eq!(
        product.deallocate(&other),
        Err(DomainError::NotAllocated(other))
    );
    assert_eq!(product.batches()[0].available_quantity(), 6);
}

// --- change batch quantity ---

#[test]
fn shrinking_a_batch_frees_the_newest_lines_until_it_fits() {
    let mut product = product(vec![batch("b1", "LAMP", 20, None)]);
    let first = line("o1", "LAMP", 10);
    let second = line("o2", "LAMP", 6);
    let third = line("o3", "LAMP", 4);
    for l in [&first, &second, &third] {
        product.allocate(l.clone());
    }
    product.take_events();

    product
        .change_batch_quantity(&reference("b1"), qty(11))
        .unwrap();

    let batch = &product.batches()[0];
    assert_eq!(batch.allocations(), [first]);
    assert_eq!(batch.available_quantity(), 1);
    let changed = Event::BatchQuantityChanged(BatchQuantityChanged {
        reference: reference("b1"),
        qty: qty(11),
    });
    assert_eq!(product.freed_lines(), [third.clone(), second.clone()]);
    let freed = [third, second].map(|line| {
        Event::Deallocated(Deallocated {
            line,
            batchref: reference("b1"),
        })
    });
    assert_eq!(product.events()[0], changed);
    assert_eq!(product.events()[1..], freed);
}

#[test]
fn growing_a_batch_frees_nothing_and_bumps_the_version() {
    let mut product = product(vec![batch("b1", "LAMP", 20, None)]);
    product.allocate(line("o1", "LAMP", 10));
    product.take_events();
    product
        .change_batch_quantity(&reference("b1"), qty(50))
        .unwrap();
    assert_eq!(product.batches()[0].available_quantity(), 40);
    assert!(matches!(product.events(), [Event::BatchQuantityChanged(_)]));
    assert_eq!(product.version_number(), 5);
}

#[test]
fn changing_an_unknown_batch_is_refused() {
    let mut product = product(vec![batch("b1", "LAMP", 20, None)]);
    assert_eq!(
        product.change_batch_quantity(&reference("nope"), qty(5)),
        Err(DomainError::UnknownBatch(reference("nope")))
    );
    assert_eq!(product.version_number(), 3);
}

#[test]
fn setting_the_quantity_a_batch_has_changes_nothing() {
    let mut product = product(vec![batch("b1", "LAMP", 20, None)]);
    product
        .change_batch_quantity(&reference("b1"), qty(20))
        .unwrap();
    assert!(product.events().is_empty());
    assert_eq!(product.version_number(), 3);
}

#[test]
fn a_copy_of_a_product_changes_apart_from_the_product_it_was_copied_from() {
    let mut original = product(vec![batch("b1", "RUG", 10, None)]);
    original.allocate(line("o1", "RUG", 2));
    original.allocate(line("o2", "RUG", 2));
    let before = original.clone();

    let mut allocated = original.clone();
    allocated.allocate(line("o3", "RUG", 2));
    let mut cancelled = original.clone();
    cancelled.deallocate(&line("o1", "RUG", 2)).unwrap();
    let mut shrunk = original.clone();
    shrunk
        .change_batch_quantity(&reference("b1"), qty(2))
        .unwrap();

    assert_eq!(original, before);
    assert_eq!(original.batches()[0].allocated_quantity(), 4);
    assert_eq!(allocated.batches()[0].allocated_quantity(), 6);
    assert_eq!(cancelled.batches()[0].allocated_quantity(), 2);
    assert_eq!(shrunk.batches()[0].allocations(), &[line("o1", "RUG", 2)]);
}

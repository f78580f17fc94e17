-- Every allocation inserts into each index of allocations_view (a sixth of a write's
-- turn on SQLite, profiled), and a batch holds one SKU: one index now finds both a
-- SKU's lines and a batch's, which are looked up by their SKU and reference together.
DROP INDEX allocations_view_by_sku;
DROP INDEX allocations_view_by_batch;
CREATE INDEX allocations_view_by_sku_and_batch ON allocations_view (sku, batchref);

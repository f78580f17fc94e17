-- The reports' read models (see src/views/reports/). Kept in SQL whatever READ_MODEL
-- says: reports filter, sort and page through them.

-- When each line was allocated (RFC 3339, UTC), in the write model and in the view,
-- for the allocations report's period. Lines allocated before this column was added
-- have none.
ALTER TABLE allocations ADD COLUMN allocated_at TEXT;
ALTER TABLE allocations_view ADD COLUMN allocated_at TEXT;
-- Newest first, in a stable order: the allocations report's default.
CREATE INDEX allocations_view_by_time ON allocations_view (allocated_at, id);
CREATE INDEX allocations_view_by_sku ON allocations_view (sku);
CREATE INDEX out_of_stock_notices_by_time ON out_of_stock_notices (noticed_at, id);
CREATE INDEX out_of_stock_notices_by_sku ON out_of_stock_notices (sku);
CREATE INDEX batches_view_by_eta ON batches_view (eta);

-- The stock position: one row per SKU with running totals, split between warehouse
-- stock and batches still on their way.
CREATE TABLE sku_stock_view (
    sku TEXT PRIMARY KEY,
    batches BIGINT NOT NULL DEFAULT 0,
    warehouse_purchased BIGINT NOT NULL DEFAULT 0,
    warehouse_allocated BIGINT NOT NULL DEFAULT 0,
    incoming_purchased BIGINT NOT NULL DEFAULT 0,
    incoming_allocated BIGINT NOT NULL DEFAULT 0,
    -- Order lines allocated to the SKU's batches.
    open_lines BIGINT NOT NULL DEFAULT 0,
    -- The earliest ETA of its batches on their way (YYYY-MM-DD).
    next_eta TEXT
);
INSERT INTO sku_stock_view (sku, batches, warehouse_purchased, warehouse_allocated,
                            incoming_purchased, incoming_allocated, open_lines, next_eta)
SELECT b.sku, COUNT(*),
       SUM(CASE WHEN b.eta IS NULL THEN b.purchased_quantity ELSE 0 END),
       SUM(CASE WHEN b.eta IS NULL THEN b.allocated_quantity ELSE 0 END),
       SUM(CASE WHEN b.eta IS NULL THEN 0 ELSE b.purchased_quantity END),
       SUM(CASE WHEN b.eta IS NULL THEN 0 ELSE b.allocated_quantity END),
       (SELECT COUNT(*) FROM allocations_view a WHERE a.sku = b.sku),
       MIN(b.eta)
FROM batches_view b GROUP BY b.sku;

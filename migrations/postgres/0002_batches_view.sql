-- Read model of the batch listings and the stock summary: one row per batch with its
-- running totals, kept by the event handlers in the same transaction as the change.
CREATE TABLE batches_view (
    reference TEXT PRIMARY KEY,
    sku TEXT NOT NULL,
    -- YYYY-MM-DD; NULL: in the warehouse.
    eta TEXT,
    purchased_quantity BIGINT NOT NULL,
    allocated_quantity BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX batches_view_by_sku ON batches_view (sku, eta);

-- The batch page lists the lines allocated to the batch.
CREATE INDEX allocations_view_by_batch ON allocations_view (batchref);
-- The order page shows the order's out-of-stock notices.
CREATE INDEX out_of_stock_notices_by_order ON out_of_stock_notices (orderid);

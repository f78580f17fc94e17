-- Write model: the Product aggregate, its batches and their allocated order lines.
-- Integers are BIGINT and dates ISO text, the types the store reads on both databases.
CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    -- Bumped by every change; a compare-and-set on it detects concurrent writers.
    version_number BIGINT NOT NULL
);

CREATE TABLE batches (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    sku TEXT NOT NULL REFERENCES products (sku),
    purchased_quantity BIGINT NOT NULL CHECK (purchased_quantity > 0),
    -- YYYY-MM-DD; NULL: already in the warehouse.
    eta TEXT CHECK (eta ~ '^\d{4}-\d{2}-\d{2}$')
);
CREATE INDEX batches_by_sku ON batches (sku);

CREATE TABLE allocations (
    -- Allocation order: a shrinking batch frees its newest lines first.
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES batches (id),
    orderid TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty BIGINT NOT NULL CHECK (qty > 0),
    -- A line is allocated at most once, whatever the code above does.
    UNIQUE (orderid, sku, qty)
);
CREATE INDEX allocations_by_batch ON allocations (batch_id);

-- Read models: denormalised for the pages and GETs, written only by event handlers.
CREATE TABLE allocations_view (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    orderid TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty BIGINT NOT NULL,
    batchref TEXT NOT NULL,
    UNIQUE (orderid, sku, qty)
);

CREATE TABLE out_of_stock_notices (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku TEXT NOT NULL,
    orderid TEXT NOT NULL,
    qty BIGINT NOT NULL,
    -- RFC 3339, UTC.
    noticed_at TEXT NOT NULL
);

-- Write model: the Product aggregate, its batches and their allocated order lines.
CREATE TABLE products (
    sku TEXT PRIMARY KEY NOT NULL,
    -- Bumped by every change; a compare-and-set on it detects concurrent writers.
    version_number INTEGER NOT NULL
);

CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    sku TEXT NOT NULL REFERENCES products (sku),
    purchased_quantity INTEGER NOT NULL CHECK (purchased_quantity > 0),
    -- YYYY-MM-DD; NULL: already in the warehouse.
    eta TEXT
);
CREATE INDEX batches_by_sku ON batches (sku);

CREATE TABLE allocations (
    -- Allocation order: a shrinking batch frees its newest lines first.
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES batches (id),
    orderid TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL CHECK (qty > 0),
    -- A line is allocated at most once, whatever the code above does.
    UNIQUE (orderid, sku, qty)
);
CREATE INDEX allocations_by_batch ON allocations (batch_id);

-- Read models: denormalised for the pages and GETs, written only by event handlers.
CREATE TABLE allocations_view (
    id INTEGER PRIMARY KEY,
    orderid TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    batchref TEXT NOT NULL,
    UNIQUE (orderid, sku, qty)
);

CREATE TABLE out_of_stock_notices (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    orderid TEXT NOT NULL,
    qty INTEGER NOT NULL,
    -- RFC 3339, UTC.
    noticed_at TEXT NOT NULL
);

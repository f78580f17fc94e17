-- Every command on a product reads all its lines (its batches' allocations, in the
-- order allocated): read from this index alone, without looking up each line's row,
-- which was a fifth of a write's time on SQLite (profiled).
DROP INDEX allocations_by_batch;
CREATE INDEX allocations_by_batch ON allocations (batch_id, id, orderid, qty);

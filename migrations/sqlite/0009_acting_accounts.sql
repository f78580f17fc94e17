-- Who did what: the account each command ran for (a username, `token:<name>`,
-- `anonymous` or `system`). Rows written before accounts existed have none.
ALTER TABLE allocations ADD COLUMN allocated_by TEXT;
ALTER TABLE allocations_view ADD COLUMN allocated_by TEXT;
-- Who added the batch or last changed its quantity.
ALTER TABLE batches ADD COLUMN changed_by TEXT;
ALTER TABLE batches_view ADD COLUMN changed_by TEXT;

-- Every command that took effect, with its actor, in the transaction of its changes.
CREATE TABLE command_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- RFC 3339, UTC: when the command's transaction began.
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    -- The command's name, e.g. `Allocate`, and its fields as JSON.
    command TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX command_log_by_actor ON command_log (actor, id);

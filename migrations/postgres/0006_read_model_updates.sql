-- With the read models in Redis: each change to them, recorded in the transaction of the
-- change that caused it and applied to Redis after the commit, again after a crash, until
-- it is there. Applying is idempotent: an update only takes effect where it is newer
-- than what Redis holds, so ids must never be reused.
CREATE TABLE read_model_updates (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload TEXT NOT NULL
);

-- Messages for the world outside (Redis), written in the same transaction as the change
-- that caused them and published after the commit, in order, at least once.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- 0 until the relay has handed the message to Redis.
    published INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published = 0;

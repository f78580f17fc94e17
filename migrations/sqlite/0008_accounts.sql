-- Staff accounts, their sessions and the API tokens managers hand to machines. Times
-- are Unix seconds. Secrets are stored as hashes only: argon2 for passwords, SHA-256
-- for session and API tokens (random, so a fast hash is enough).
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

-- At most one row: the first manager, made by whoever visits a fresh desk first. Two
-- visitors racing both insert here and only one commits.
CREATE TABLE first_manager (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    account_id BIGINT NOT NULL REFERENCES accounts (id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

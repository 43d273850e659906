-- Bearer tokens (see daemon/src/pg/tokens.rs): never the secret, only its SHA-256.
CREATE TABLE tokens (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    role          text NOT NULL,
    user_id       text,
    person        text,
    created_at    timestamptz NOT NULL,
    created_by    text NOT NULL,
    expires_at    timestamptz,
    last_used     timestamptz,
    revoked_at    timestamptz,
    secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32)
);
-- A user's submitter tokens (erasure).
CREATE INDEX tokens_by_user ON tokens (user_id) WHERE user_id IS NOT NULL;
-- Whether an active token has a name.
CREATE INDEX tokens_by_name ON tokens (name) WHERE revoked_at IS NULL;

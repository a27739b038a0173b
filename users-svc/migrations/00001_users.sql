-- +goose Up
-- username_key is the lower-cased username: uniqueness ignores case while the chosen
-- spelling is kept for display. email is stored normalised (lower-cased).
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_username_key_uq ON users (username_key);
CREATE UNIQUE INDEX users_email_uq ON users (email);

-- A family is every refresh token descended from one login; revoking it ends them all.
CREATE TABLE refresh_families (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP NULL
);
CREATE INDEX refresh_families_user_idx ON refresh_families (user_id);

-- token_hash is the SHA-256 of the secret; the secret is never stored.
CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    spent_at   TIMESTAMP NULL
);
CREATE UNIQUE INDEX refresh_tokens_hash_uq ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- Access-token signing keys, shared by every instance. slot (the start of the rotation
-- window, RFC 3339) is unique so that instances that rotate at once create a single key.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    slot        TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX signing_keys_slot_uq ON signing_keys (slot);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE refresh_families;
DROP TABLE users;

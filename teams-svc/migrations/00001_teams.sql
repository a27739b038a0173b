-- +goose Up
-- Ids are UUIDv7 strings: time-ordered, so "ORDER BY id" is creation order and an id is
-- a stable pagination cursor. Times are UTC.
CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    join_code   TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX teams_join_code ON teams (join_code);

CREATE TABLE memberships (
    id        TEXT PRIMARY KEY,
    team_id   TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    joined_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX memberships_team_user ON memberships (team_id, user_id);
CREATE INDEX memberships_user ON memberships (user_id, team_id);
CREATE INDEX memberships_team_id ON memberships (team_id, id);

CREATE TABLE join_requests (
    id         TEXT PRIMARY KEY,
    team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP NULL,
    decided_by TEXT NULL
);
-- At most one pending request per user and team: a second POST /teams/join is a 409.
CREATE UNIQUE INDEX join_requests_one_pending ON join_requests (team_id, user_id) WHERE status = 'pending';
CREATE INDEX join_requests_team ON join_requests (team_id, status, id);

CREATE TABLE posts (
    id              TEXT PRIMARY KEY,
    team_id         TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    author_id       TEXT NOT NULL,
    text            TEXT NOT NULL,
    comment_count   BIGINT NOT NULL DEFAULT 0,
    idempotency_key TEXT NULL,
    created_at      TIMESTAMP NOT NULL,
    edited_at       TIMESTAMP NULL
);
CREATE INDEX posts_team_id ON posts (team_id, id);
CREATE UNIQUE INDEX posts_idempotency ON posts (team_id, author_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE comments (
    id              TEXT PRIMARY KEY,
    post_id         TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    team_id         TEXT NOT NULL,
    author_id       TEXT NOT NULL,
    text            TEXT NOT NULL,
    idempotency_key TEXT NULL,
    created_at      TIMESTAMP NOT NULL,
    edited_at       TIMESTAMP NULL
);
CREATE INDEX comments_post_id ON comments (post_id, id);
CREATE UNIQUE INDEX comments_idempotency ON comments (post_id, author_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Events for other services, written in the transaction that caused them and removed
-- once the receiver acknowledged them (see app.DeletionRelay).
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    topic           TEXT NOT NULL,
    event_key       TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);

-- +goose Down
DROP TABLE outbox;
DROP TABLE comments;
DROP TABLE posts;
DROP TABLE join_requests;
DROP TABLE memberships;
DROP TABLE teams;

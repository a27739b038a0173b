-- +goose Up
-- Portable between Postgres and SQLite: TEXT ids (UUIDv7), TIMESTAMP values always in UTC.
CREATE TABLE conferences (
    id                TEXT PRIMARY KEY,
    team_id           TEXT NOT NULL,
    title             TEXT NOT NULL,
    starts_at         TIMESTAMP NOT NULL,
    waiting_room      BOOLEAN NOT NULL,
    created_by        TEXT NOT NULL,
    status            TEXT NOT NULL,
    participant_count INTEGER NOT NULL DEFAULT 0,
    -- The creator's Idempotency-Key, so that a retried create returns the same conference.
    create_key        TEXT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);

-- A team's list is read in starts_at order with (starts_at, id) as the cursor.
CREATE INDEX conferences_team_starts ON conferences (team_id, starts_at, id);
CREATE UNIQUE INDEX conferences_create_key ON conferences (created_by, create_key);

-- Hosts of a conference: the creator, and whoever a host promoted. Everyone else in the
-- team joins as a participant.
CREATE TABLE conference_hosts (
    conference_id TEXT NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (conference_id, user_id)
);

-- +goose Down
DROP TABLE conference_hosts;
DROP TABLE conferences;

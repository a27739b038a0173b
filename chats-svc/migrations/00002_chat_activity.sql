-- +goose Up
-- The chat list is ordered by each chat's latest activity, which messages-svc reports
-- (chats.v1 RecordActivity) after messages commit. Chats that existed before start from
-- their creation time and move up with their next message. SQLite adds a NOT NULL column
-- only with a default; every insert sets the column, and the UPDATE replaces the default.
ALTER TABLE chats ADD COLUMN last_activity_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE chats SET last_activity_at = created_at;
CREATE INDEX chats_last_activity ON chats (last_activity_at, id);

-- +goose Down
DROP INDEX chats_last_activity;
ALTER TABLE chats DROP COLUMN last_activity_at;

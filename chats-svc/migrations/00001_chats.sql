-- +goose Up
CREATE TABLE chats (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE chat_members (
    chat_id   TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    joined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

-- A user's chats: the chat list and ListUserChats.
CREATE INDEX chat_members_user_id ON chat_members (user_id, chat_id);

-- The outbox: realtime frames recorded with the membership change that produced them,
-- deleted once messages-svc accepted them. user_ids is a JSON array.
CREATE TABLE chat_events (
    id              TEXT PRIMARY KEY,
    user_ids        TEXT NOT NULL,
    frame           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    created_at      TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE chat_events;
DROP TABLE chat_members;
DROP TABLE chats;

-- +goose Up
-- One row per chat that has messages: the last seq handed out. Sending updates it in the
-- same transaction as the insert, so seqs are gap-free and the row lock orders senders.
CREATE TABLE chat_counters (
    chat_id  TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    chat_id       TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    sender_id     TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    text          TEXT NOT NULL,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMP NOT NULL,
    edited_at     TIMESTAMP NULL
);
-- The order of a chat, and the index every history page and summary reads.
CREATE UNIQUE INDEX messages_chat_seq ON messages (chat_id, seq);
-- A retried send finds the original instead of making a second message.
CREATE UNIQUE INDEX messages_idempotency ON messages (chat_id, sender_id, client_msg_id);

CREATE TABLE read_positions (
    chat_id       TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    last_read_seq BIGINT NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

-- +goose Down
DROP TABLE read_positions;
DROP TABLE messages;
DROP TABLE chat_counters;

-- +goose Up
-- The placement sweeper of every conference-svc instance lists the live conferences every
-- few seconds; they are a handful among every meeting ever scheduled, so the index holds
-- only them (partial indexes work in Postgres and SQLite alike).
CREATE INDEX conferences_live ON conferences (id) WHERE status = 'live';

-- +goose Down
DROP INDEX conferences_live;

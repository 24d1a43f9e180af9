-- user-service: sliding-window limits that every replica must share (issue 13): registrations per
-- client address ('registration:<address>') and wrong current passwords per user ('password:<id>').
-- One row per counted event; rows older than the longest window are deleted by every replica.
CREATE TABLE rate_limit_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket      VARCHAR(100) NOT NULL,
    happened_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX rate_limit_events_bucket_idx ON rate_limit_events (bucket, happened_at);
CREATE INDEX rate_limit_events_happened_idx ON rate_limit_events (happened_at);

-- Presence (API.md Part 2, issue 17): who is online, the same view on every chat-service replica.
-- Each replica writes a row per connection joined to room:chat when it joins and deletes it when it
-- leaves; a join reads its contacts' rows in the same statement (one lookup, whatever the number of
-- contacts). Replicas heartbeat their own row; one not seen for chat.presence.replica-timeout is dead,
-- and whichever replica notices first deletes its connections' rows and announces them as leaves.
CREATE TABLE presence_replicas (
    replica_id VARCHAR(64) PRIMARY KEY,
    seen_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE presences (
    -- The connection's phx_ref: stable while it lives, unique across replicas.
    phx_ref    VARCHAR(64) PRIMARY KEY,
    replica_id VARCHAR(64) NOT NULL,
    user_id    BIGINT      NOT NULL,
    online_at  BIGINT      NOT NULL
);
-- The online connections of a user's contacts (a join's lookup, a new contact's metas).
CREATE INDEX presences_user_idx ON presences (user_id);
-- A dead replica's connections (the reaper).
CREATE INDEX presences_replica_idx ON presences (replica_id);

-- Editing, deleting and searching messages (API.md Part 2, issue 18).
-- A deleted message stays as a tombstone: content NULL, deleted_at set. An edit replaces content in
-- place and sets edited_at; no earlier text is kept in any table a reader can reach.
ALTER TABLE messages
    ALTER COLUMN content DROP NOT NULL,
    ADD COLUMN edited_at  TIMESTAMPTZ,
    ADD COLUMN deleted_at TIMESTAMPTZ,
    ADD CONSTRAINT messages_tombstone_shape CHECK ((deleted_at IS NULL) = (content IS NOT NULL));

-- Full-text search: the 'simple' configuration (whole words, lower-cased, no stemming, any language),
-- kept by PostgreSQL itself on every insert and edit; a tombstone's is empty.
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(content, ''))) STORED;
CREATE INDEX messages_search_idx ON messages USING GIN (search);

-- Unread counts leave deleted messages out: they count every message after the marker
-- (messages_history_idx) minus the deleted ones after it, read from this index of deleted messages
-- only, which new messages never enter.
CREATE INDEX messages_deleted_idx ON messages (conversation_id, id) WHERE deleted_at IS NOT NULL;

-- Group conversations (API.md Part 2). A conversation is 'direct' (the 1:1 conversations of
-- Part 1: two members, a unique pair) or 'group' (a title, its creator in sender_id, up to 256
-- members). Who belongs to a conversation is conversation_members, for both kinds: every access
-- check, the live fan-out and the lists read it. Existing conversations become direct ones with
-- the same ids and their two members.

ALTER TABLE conversations
    ADD COLUMN kind  VARCHAR(8)   NOT NULL DEFAULT 'direct',
    ADD COLUMN title VARCHAR(100),
    ALTER COLUMN recipient_id DROP NOT NULL,
    ADD CONSTRAINT conversations_kind_shape CHECK (
        (kind = 'direct' AND recipient_id IS NOT NULL AND title IS NULL)
        OR (kind = 'group' AND recipient_id IS NULL AND title IS NOT NULL));

-- The pair rule holds for direct conversations only (LEAST/GREATEST ignore a NULL recipient, so
-- without the predicate two groups of one creator would collide).
DROP INDEX conversations_pair_key;
CREATE UNIQUE INDEX conversations_pair_key
    ON conversations (LEAST(sender_id, recipient_id), GREATEST(sender_id, recipient_id))
    WHERE kind = 'direct';

-- Lists and access checks go through the membership table now.
DROP INDEX conversations_sender_idx;
DROP INDEX conversations_recipient_idx;

CREATE TABLE conversation_members (
    conversation_id BIGINT      NOT NULL REFERENCES conversations (id),
    user_id         BIGINT      NOT NULL REFERENCES users (id),
    joined_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- (conversation_id, user_id): is this user a member, and who are the members (fan-out).
    PRIMARY KEY (conversation_id, user_id)
);
-- A user's conversations (the list, the socket's catch-up).
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id, conversation_id);

INSERT INTO conversation_members (conversation_id, user_id, joined_at)
SELECT id, sender_id, inserted_at FROM conversations
UNION ALL
SELECT id, recipient_id, inserted_at FROM conversations;

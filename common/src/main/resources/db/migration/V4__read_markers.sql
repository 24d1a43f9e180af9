-- Read state (API.md Part 2, issue 16). Each member's read marker is the newer of two things:
--   conversation_members.last_read_id: the newest message they marked read (REST, socket mark_read);
--   their own newest message in the conversation: sending moves one's own marker to the message.
-- The second is read, never written: a message costs no UPDATE of its sender's membership row (no
-- row lock, no dead row version, no deadlock between concurrent batches on the write path), only one
-- more entry in the index below.
ALTER TABLE conversation_members ADD COLUMN last_read_id BIGINT;

-- A member's newest own message in a conversation: one probe (max(id) of (conversation, sender)).
CREATE INDEX messages_conversation_sender_idx ON messages (conversation_id, sender_id, id);

-- A conversation's last activity is the date of its newest message, read at list time through
-- messages_history_idx (one index probe per conversation). Storing it meant an UPDATE of the
-- conversation row per message: never HOT (the column was indexed twice), three index entries
-- and a dead row version per message, on the hottest path of the system.
DROP INDEX conversations_sender_activity_idx;
DROP INDEX conversations_recipient_activity_idx;
ALTER TABLE conversations DROP COLUMN last_activity_at;
CREATE INDEX conversations_sender_idx ON conversations (sender_id);
CREATE INDEX conversations_recipient_idx ON conversations (recipient_id);

-- Unread counts that stay fast when a conversation is left unread for a long time (issue 16).
-- A tally says: the conversation's messages with id <= upto_id are `position` in number (tombstones
-- included; messages are never removed from the table). Tallies sit at every 256th message of a
-- conversation (position % 256 = 0) and are written, after the fact, only for conversations whose
-- members were found with long unread ranges; the write path never touches them. A reader counts the
-- messages after a marker as: up to the first tally after it (< 256 index entries), plus the difference
-- of two tallies' positions, plus what came after the last tally; without tallies it counts the range.
-- A tally is written only up to an id below which no message can still be committed (see
-- chat-service's UnreadTallies), so its position never changes. Deterministic, so replicas writing
-- the same tally at once insert the same row.
CREATE TABLE message_tallies (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    upto_id         BIGINT NOT NULL,
    position        BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, upto_id)
);

-- The data of explain.sh (and of the conversation-list benchmark): one user with 500
-- conversations among 10,000, over 1,000,000 messages. Load into a database with common's
-- migrations applied.
--
-- users 1..20,000. User 1, "the user":
--   conversations 1..400    direct, user 1 with user c + 1
--   conversations 401..500  groups created by user 1, with 19 others each (users 402..991)
-- conversations 501..10,000 direct between other users (1000 + 2k, 1001 + 2k).
-- messages, interleaved in id order as real traffic would be:
--   12 % (120,000) to ten of the user's conversations (1..5 and 401..405), 12,000 each, all by others;
--    5 % (50,000) round the user's 500 conversations (100 each), by others;
--   83 % (830,000) round the other 9,500 conversations (~87 each).
INSERT INTO users (name, subname, email, job, password_hash)
SELECT 'Bench', g::text, 'bench' || g || '@example.com', 'Engineer', 'not-a-hash' FROM generate_series(1, 20000) g;

INSERT INTO conversations (sender_id, recipient_id, inserted_at, updated_at)
SELECT 1, g + 1, timestamptz '2025-12-01 00:00:00+00', timestamptz '2025-12-01 00:00:00+00' FROM generate_series(1, 400) g;
INSERT INTO conversations (kind, title, sender_id, inserted_at, updated_at)
SELECT 'group', 'Group ' || k, 1, timestamptz '2025-12-01 00:00:00+00', timestamptz '2025-12-01 00:00:00+00'
FROM generate_series(1, 100) k;
INSERT INTO conversations (sender_id, recipient_id, inserted_at, updated_at)
SELECT 1000 + 2 * k, 1001 + 2 * k, timestamptz '2025-12-01 00:00:00+00', timestamptz '2025-12-01 00:00:00+00'
FROM generate_series(0, 9499) k;

INSERT INTO conversation_members (conversation_id, user_id, joined_at)
SELECT id, sender_id, inserted_at FROM conversations WHERE kind = 'direct'
UNION ALL
SELECT id, recipient_id, inserted_at FROM conversations WHERE kind = 'direct'
UNION ALL
SELECT id, 1, inserted_at FROM conversations WHERE kind = 'group'
UNION ALL
SELECT c.id, 402 + (c.id * 19 + j) % 590, c.inserted_at FROM conversations c CROSS JOIN generate_series(0, 18) j
WHERE c.kind = 'group';

INSERT INTO messages (conversation_id, sender_id, content, date, inserted_at, updated_at)
SELECT c,
       CASE WHEN c <= 400 THEN c + 1
            WHEN c <= 500 THEN 402 + (c * 19 + g % 19) % 590
            ELSE 1000 + 2 * (c - 501) + g % 2 END,
       'Message ' || g || ': ' || repeat('lorem ipsum ', 1 + g % 12), t, t, t
FROM (SELECT g,
             timestamptz '2026-01-01 00:00:00+00' + g * interval '3 seconds' AS t,
             CASE WHEN g % 100 < 12 THEN (ARRAY[1, 2, 3, 4, 5, 401, 402, 403, 404, 405])[1 + g % 10]
                  WHEN g % 100 < 17 THEN 1 + (g / 100) % 500
                  ELSE 501 + (g / 100 * 83 + g % 100) % 9500 END AS c
      FROM generate_series(1, 1000000) g) m
ORDER BY g;

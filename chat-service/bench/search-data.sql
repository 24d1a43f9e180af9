-- The data of search-bench.sh (issue 18): 1,000,000 messages of chat-like text over 10,000
-- conversations, one user in 100 of them. Load into a database with common's migrations applied.
-- Reproducible: the random draws are seeded.
--
-- users 1..20,000. User 1, "the user":
--   conversations 1..80      direct, user 1 with user c + 1
--   conversations 81..100    groups created by user 1, with 9 others each (users 101..1000)
-- conversations 101..9,100   direct between other users (1001 + 2k, 1002 + 2k)
-- conversations 9,101..10,000 groups of 6 other users (from 19,001..20,000)
-- messages, interleaved in id order as real traffic would be: 10 % (100,000) round the user's 100
-- conversations (1,000 each), 90 % round the 9,900 others (~91 each).
--
-- Text: sentences of 3-25 words (short ones most often) drawn from a vocabulary of 5,000 words
-- with a Zipf distribution (the word of rank r with probability ~ 1/r: "the" is ~8 % of the
-- words and in ~58 % of the messages): ~200 common English chat words first, then made-up words
-- from syllables, with 40 non-Latin words (Cyrillic, Greek, CJK, Arabic, accented Latin) among
-- them. Planted at fixed frequencies:
--   ten rare words (zanzibar, kerfuffle, …), each in ~50 messages (1 in 20,000, by a hash of the id);
--   the phrase "quarterly roadmap" in ~1,000 messages (1 in 1,000); both words are also in the
--   vocabulary (ranks ~150 and ~190), so each alone is in ~1 % of the messages.
SELECT setseed(0.18);

INSERT INTO users (name, subname, email, job, password_hash)
SELECT 'Bench', g::text, 'bench' || g || '@example.com', 'Engineer', 'not-a-hash' FROM generate_series(1, 20000) g;

INSERT INTO conversations (sender_id, recipient_id, inserted_at, updated_at)
SELECT 1, g + 1, timestamptz '2025-12-01 00:00:00+00', timestamptz '2025-12-01 00:00:00+00' FROM generate_series(1, 80) g;
INSERT INTO conversations (kind, title, sender_id, inserted_at, updated_at)
SELECT 'group', 'Group ' || k, 1, timestamptz '2025-12-01 00:00:00+00', timestamptz '2025-12-01 00:00:00+00'
FROM generate_series(1, 20) k;
INSERT INTO conversations (sender_id, recipient_id, inserted_at, updated_at)
SELECT 1001 + 2 * k, 1002 + 2 * k, timestamptz '2025-12-01 00:00:00+00', timestamptz '2025-12-01 00:00:00+00'
FROM generate_series(0, 8999) k;
INSERT INTO conversations (kind, title, sender_id, inserted_at, updated_at)
SELECT 'group', 'Group ' || k, 19001 + (k * 6) % 1000, timestamptz '2025-12-01 00:00:00+00', timestamptz '2025-12-01 00:00:00+00'
FROM generate_series(21, 920) k;

-- Group members: the user's groups 81..100 have user 1 and users 101 + 9 (c - 81) .. + 8; the
-- others six users from 19,001..20,000, starting at their creator.
INSERT INTO conversation_members (conversation_id, user_id, joined_at)
SELECT id, sender_id, inserted_at FROM conversations WHERE kind = 'direct'
UNION ALL
SELECT id, recipient_id, inserted_at FROM conversations WHERE kind = 'direct'
UNION ALL
SELECT id, 1, inserted_at FROM conversations WHERE kind = 'group' AND id <= 100
UNION ALL
SELECT c.id, 101 + 9 * (c.id - 81) + j, c.inserted_at FROM conversations c CROSS JOIN generate_series(0, 8) j
WHERE c.kind = 'group' AND c.id <= 100
UNION ALL
SELECT c.id, 19001 + (c.sender_id - 19001 + j) % 1000, c.inserted_at FROM conversations c CROSS JOIN generate_series(0, 5) j
WHERE c.kind = 'group' AND c.id > 100;

CREATE TEMP TABLE vocabulary AS
WITH english AS (
    SELECT word, i FROM unnest(string_to_array(
        'the i to you a and it is we on for that this in of be can have it''s will do not with just so but '
        'me at my ok what if are thanks i''ll all can''t let know get now today yes need there was deploy '
        'think go up when meeting see no one about check tomorrow look out from some should build team '
        'still how could time would fix any by more like did test please back an as here new done sure '
        'they good also after morning work review issue release week call then yeah were great maybe '
        'sorry their branch update problem our again has before thing first make last customer server '
        'because right only doc question merge pr send which try data user why much very going '
        'well lunch coffee afternoon later night office friday monday plan design ticket bug client '
        'people something into them want take other same tonight hey hi hello quarterly numbers sprint '
        'demo slides budget report status next small big wrong down off over though long soon email '
        'link page file version staging prod logs error alert outage fixed works broken api endpoint '
        'query index database cache latency config roadmap milestone priority estimate feedback draft '
        'approve approved blocked waiting ready', ' ')) WITH ORDINALITY AS e (word, i)),
foreign_words AS (
    SELECT word, i FROM unnest(string_to_array(
        'привет спасибо сегодня завтра встреча релиз сервер ошибка готово проект задача отчёт клиент '
        'неделя γεια ευχαριστώ αύριο συνάντηση ありがとう 会議 明日 確認 お疲れ様です 你好 谢谢 项目 '
        'شكرا مرحبا über schön grüße müssen réunion déjà très señor mañana añadir çalışma ğüzel', ' '))
        WITH ORDINALITY AS f (word, i)),
syllables AS (
    SELECT string_to_array('ka lo mi ne ru sa ti vo ber dan fel gor han jin kel lam mor nal pet quin '
                           'ros sel tam ul ven wil yor zen bra cle dri fla gre plo stu tha cho shi ux ez', ' ') AS s),
made_up AS (
    SELECT s[1 + k % 40] || s[1 + (k / 40) % 40] || CASE WHEN k >= 1600 THEN s[1 + (k / 1600) % 40] ELSE '' END AS word,
           k AS i
    FROM syllables, generate_series(0, 4999) k),
ranked AS (
    SELECT word, i::numeric AS position FROM english
    UNION ALL SELECT word, 300 + 40 * i FROM foreign_words
    UNION ALL SELECT word, 300 + i + 0.5 FROM made_up)
SELECT word, row_number() OVER (ORDER BY position) AS rank FROM ranked ORDER BY position LIMIT 5000;

-- Each message's length, conversation and planted words, then its words: one draw per word, joined
-- to the vocabulary by rank and put together in order.
CREATE TEMP TABLE drafts AS
SELECT g,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '3 seconds' AS t,
       CASE WHEN g % 10 = 0 THEN 1 + (g / 10) % 100 ELSE 101 + (g - g / 10) % 9900 END AS c,
       3 + floor(23 * random() ^ 2)::int AS length,
       abs(hashint4(g)) % 20000 AS rare,
       abs(hashint4(g + 7777777)) % 1000 = 0 AS phrase
FROM generate_series(1, 1000000) g;
ANALYZE vocabulary;
ANALYZE drafts;

SET work_mem = '256MB';
CREATE TEMP TABLE texts AS
SELECT d.g, string_agg(v.word, ' ' ORDER BY d.i) AS text
FROM (SELECT g, i, least(5000, floor(power(5000, random()))::int) AS rank
      FROM drafts CROSS JOIN LATERAL generate_series(1, length) i) d
JOIN vocabulary v ON v.rank = d.rank
GROUP BY d.g;

-- The search index is built once after the load (a GIN index filled row by row is much slower).
DROP INDEX messages_search_idx;

INSERT INTO messages (conversation_id, sender_id, content, date, inserted_at, updated_at)
SELECT m.c,
       CASE WHEN m.c <= 80 THEN CASE WHEN m.g % 3 = 0 THEN 1 ELSE m.c + 1 END
            WHEN m.c <= 100 THEN CASE WHEN m.g % 10 = 0 THEN 1 ELSE 101 + 9 * (m.c - 81) + m.g % 9 END
            WHEN m.c <= 9100 THEN 1001 + 2 * (m.c - 101) + m.g % 2
            ELSE 19001 + ((m.c - 9080) * 6 % 1000 + m.g % 6) % 1000 END,
       CASE WHEN m.phrase AND m.g % 2 = 0 THEN 'Quarterly roadmap: ' || s.text || '.'
            WHEN m.phrase THEN upper(left(s.text, 1)) || substr(s.text, 2) || ' for the quarterly roadmap?'
            ELSE upper(left(s.text, 1)) || substr(s.text, 2)
                 || (ARRAY['.', '.', '', '?', '!', ' :)'])[1 + (m.g * 7) % 6] END
       || CASE WHEN m.rare < 10
               THEN ' ' || (ARRAY['zanzibar', 'kerfuffle', 'snollygoster', 'brouhaha', 'lollygag', 'gobbledygook',
                                   'cattywampus', 'skedaddle', 'flibbertigibbet', 'quixotry'])[1 + m.rare]
               ELSE '' END,
       m.t, m.t, m.t
FROM drafts m JOIN texts s ON s.g = m.g
ORDER BY m.g;

SET maintenance_work_mem = '256MB';
CREATE INDEX messages_search_idx ON messages USING GIN (search);

-- Search matches words as API.md says, in any language: the same text folding on both sides, messages and
-- queries (chat-service's MessageRepository.SEARCH).

-- The text whose words are searched, from a message's content or a query's term:
--   NFKC: "é" typed as one character or as e + accent, full-width "Ｔｏｋｙｏ", ligatures, all become one spelling;
--   variation selectors (which only pick a glyph) go;
--   lower case by ICU's root locale ("und-x-icu", present wherever PostgreSQL is built with ICU, which the
--   embedded test/dev PostgreSQL is too), not the database's ctype: a database created with the C ctype
--   (initdb without a locale in its environment) lower-cases only ASCII;
--   Greek final sigma ς folded to σ (lower() gives σ for Σ, ς only for ς);
--   scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Myanmar, Khmer): each
--   character, with the combining marks that follow it, becomes a word of its own, so that a query's run of
--   them, searched as a phrase, matches wherever that run occurs. Hangul is not among them: Korean puts spaces
--   between words.
-- Immutable: NFKC and ICU's lower case can change with a Unicode upgrade of the server; the stored vectors
-- then keep the old folding until their message is edited (as they do for the parser's rules).
CREATE FUNCTION chat_search_text(content text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN regexp_replace(
    translate(lower(regexp_replace(normalize(content, NFKC), '[\uFE00-\uFE0F\U000E0100-\U000E01EF]', '', 'g')
                    COLLATE "und-x-icu"), 'ς', 'σ'),
    -- One character of those scripts (Thai, Lao, Myanmar, Khmer and Khmer symbols, CJK radicals and Kangxi,
    -- 々〆〇 and the Hangzhou numerals, kana, CJK ideographs of every extension and the compatibility ones,
    -- Myanmar extensions, kana supplements), then the combining marks of their blocks (Unicode 15).
    '([\u0E00-\u0EFF\u1000-\u109F\u1780-\u17FF\u19E0-\u19FF\u2E80-\u2FDF\u3005-\u3007\u3021-\u3029\u3038-\u303B'
        '\u3040-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uA9E0-\uA9FF\uAA60-\uAA7F\uF900-\uFAFF'
        '\U0001B000-\U0001B16F\U00020000-\U0003FFFF])'
    '([\u0E31\u0E34-\u0E3A\u0E47-\u0E4E\u0EB1\u0EB4-\u0EBC\u0EC8-\u0ECE\u102B-\u103E\u1056-\u1059\u105E-\u1060'
        '\u1062-\u1064\u1067-\u106D\u1071-\u1074\u1082-\u108D\u108F\u109A-\u109D\u17B4-\u17D3\u17DD\u3099\u309A'
        '\uA9E5\uAA7B-\uAA7D]*)',
    ' \1\2 ', 'g');

-- A search query: every term of words must occur, none of excluded; a term is a word or a
-- phrase (its words in that order, next to each other), folded as above. Terms without any word are left out;
-- with no term left, NULL, which matches nothing. Only exclusions: every message without them.
-- Called with constants (the search is planned for its own parameters), it is evaluated once, when planning.
CREATE FUNCTION chat_search_query(words text[], excluded text[]) RETURNS tsquery
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    term text;
    matching tsquery;
BEGIN
    FOREACH term IN ARRAY words LOOP
        term := chat_search_text(term);
        -- (phraseto_tsquery of a term without words would work too, but sends the client a notice)
        IF length(to_tsvector('simple', term)) > 0 THEN
            matching := coalesce(matching && phraseto_tsquery('simple', term), phraseto_tsquery('simple', term));
        END IF;
    END LOOP;
    FOREACH term IN ARRAY excluded LOOP
        term := chat_search_text(term);
        IF length(to_tsvector('simple', term)) > 0 THEN
            matching := coalesce(matching && !! phraseto_tsquery('simple', term), !! phraseto_tsquery('simple', term));
        END IF;
    END LOOP;
    RETURN matching;
END $$;

-- The search column, now of the folded text. Replacing a generated column's expression needs PostgreSQL 17, so
-- it is dropped and added again: this rewrites the table and rebuilds the index, under an exclusive lock (about
-- a minute per million messages); on a large production table, run it in a maintenance window.
DROP INDEX messages_search_idx;
ALTER TABLE messages DROP COLUMN search;
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', chat_search_text(coalesce(content, '')))) STORED;
CREATE INDEX messages_search_idx ON messages USING GIN (search);

package io.companychat.chat.service;

import java.util.ArrayList;
import java.util.List;

/**
 * A search's {@code q} read as API.md's query language: terms separated by spaces, each a bare word or a
 * {@code "quoted phrase"} (an unclosed quote runs to the end), excluded when written with a leading {@code -}.
 * Nothing else is an operator: {@code or}, {@code and}, {@code &}, {@code |}, {@code !}, {@code <->}, a
 * {@code -} inside a word, are all text. A term's text is kept as written; the database folds it and splits it
 * into words (chat_search_query, V8), so a term of punctuation only counts for nothing.
 *
 * @param words    the terms that must all occur
 * @param excluded the terms that must not occur
 */
public record SearchQuery(List<String> words, List<String> excluded) {

    private static final char QUOTE = '"';
    private static final char MINUS = '-';

    public static SearchQuery parse(String q) {
        List<String> words = new ArrayList<>();
        List<String> excluded = new ArrayList<>();
        int at = 0;
        int length = q.length();
        while (at < length) {
            int c = q.codePointAt(at);
            if (isSpace(c)) {
                at += Character.charCount(c);
                continue;
            }
            boolean exclude = false;
            if (c == MINUS && at + 1 < length && !isSpace(q.codePointAt(at + 1))) {
                exclude = true;
                at++;
            }
            int end;
            String term;
            if (q.charAt(at) == QUOTE) {
                int close = q.indexOf(QUOTE, at + 1);
                end = close < 0 ? length : close + 1;
                term = q.substring(at + 1, close < 0 ? length : close);
            } else {
                end = at;
                while (end < length && q.charAt(end) != QUOTE && !isSpace(q.codePointAt(end))) {
                    end += Character.charCount(q.codePointAt(end));
                }
                term = q.substring(at, end);
            }
            if (!term.isEmpty()) {
                (exclude ? excluded : words).add(term);
            }
            at = end;
        }
        return new SearchQuery(List.copyOf(words), List.copyOf(excluded));
    }

    /** Spaces of any script: no-break spaces, and the ideographic space of CJK input methods too. */
    private static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }
}

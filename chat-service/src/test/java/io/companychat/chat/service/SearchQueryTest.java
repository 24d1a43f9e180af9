package io.companychat.chat.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

/** API.md's query language: words, "phrases", -exclusions, and no other operator. */
class SearchQueryTest {

    @Test
    void bareWordsMustAllOccur() {
        assertThat(SearchQuery.parse("deploy  friday\trelease")).isEqualTo(query(List.of("deploy", "friday", "release")));
    }

    @Test
    void websearchOperatorsAreJustWords() {
        assertThat(SearchQuery.parse("red or blue")).isEqualTo(query(List.of("red", "or", "blue")));
        assertThat(SearchQuery.parse("red OR blue")).isEqualTo(query(List.of("red", "OR", "blue")));
        assertThat(SearchQuery.parse("a & b | !c <-> d and e"))
                .isEqualTo(query(List.of("a", "&", "b", "|", "!c", "<->", "d", "and", "e")));
    }

    @Test
    void quotesMakeAPhraseAndAnUnclosedOneRunsToTheEnd() {
        assertThat(SearchQuery.parse("\"release on friday\" deploy"))
                .isEqualTo(query(List.of("release on friday", "deploy")));
        assertThat(SearchQuery.parse("deploy \"release on")).isEqualTo(query(List.of("deploy", "release on")));
        assertThat(SearchQuery.parse("one\"two three\"four")).as("a quote inside a word starts a phrase")
                .isEqualTo(query(List.of("one", "two three", "four")));
        assertThat(SearchQuery.parse("\"\" x \" \"")).as("empty phrases are nothing").isEqualTo(query(List.of("x", " ")));
    }

    @Test
    void aLeadingMinusExcludesAWordOrAPhrase() {
        assertThat(SearchQuery.parse("deploy -friday -\"on call\""))
                .isEqualTo(new SearchQuery(List.of("deploy"), List.of("friday", "on call")));
        assertThat(SearchQuery.parse("-friday")).isEqualTo(new SearchQuery(List.of(), List.of("friday")));
    }

    @Test
    void aMinusElsewhereIsText() {
        assertThat(SearchQuery.parse("e-mail - x-")).isEqualTo(query(List.of("e-mail", "-", "x-")));
        assertThat(SearchQuery.parse("--x")).as("the word -x, excluded").isEqualTo(new SearchQuery(List.of(), List.of("-x")));
        assertThat(SearchQuery.parse("deploy -")).isEqualTo(query(List.of("deploy", "-")));
    }

    @Test
    void spacesOfAnyScriptSeparateTermsAndOtherScriptsStayWhole() {
        assertThat(SearchQuery.parse("東京\u3000大阪\u00a0β")).isEqualTo(query(List.of("東京", "大阪", "β")));
        assertThat(SearchQuery.parse("\"𠮷野家 で\" -𠮷")).as("characters outside the BMP")
                .isEqualTo(new SearchQuery(List.of("𠮷野家 で"), List.of("𠮷")));
    }

    @Test
    void onlySpacesIsNoTerm() {
        assertThat(SearchQuery.parse(" \u3000 ")).isEqualTo(query(List.of()));
    }

    private static SearchQuery query(List<String> words) {
        return new SearchQuery(words, List.of());
    }
}

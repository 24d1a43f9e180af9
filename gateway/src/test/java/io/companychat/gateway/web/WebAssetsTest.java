package io.companychat.gateway.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which paths name files of the web client, and what the page carries. */
class WebAssetsTest {

    private static final String MAIL_PAGE = "http://localhost:8081/dev/sent-mails";

    @ParameterizedTest(name = "{0} may be a file")
    @ValueSource(strings = { "/", "/index.html", "/js/app.js", "/vendor/phoenix.mjs", "/styles.css", "/favicon.svg" })
    void filePathsAreCandidates(String path) {
        assertThat(WebAssets.isCandidate(path)).isTrue();
    }

    @ParameterizedTest(name = "{0} is never looked up")
    @ValueSource(strings = { "/api/users", "/api/other", "/socket", "/js", "/js/", "/q/health",
            "/a/../b.js", "/.hidden.js", "/app.exe", "/index.html/", "//x.js", "/web/..js", "/x.js?y" })
    void otherPathsAreNotCandidates(String path) {
        assertThat(WebAssets.isCandidate(path)).isFalse();
    }

    @Test
    void missingFileIsNotFound() {
        assertThat(new WebAssets(Optional.empty()).load("/js/missing.js")).isEmpty();
    }

    @Test
    void pageLinksTheMailPageOnlyWhenEnabled() {
        String plain = page(new WebAssets(Optional.empty()));
        String local = page(new WebAssets(Optional.of(MAIL_PAGE)));

        assertThat(plain).contains(WebAssets.DEV_MAIL_META);
        assertThat(local).contains("<meta name=\"dev-mail-page\" content=\"" + MAIL_PAGE + "\">")
                .doesNotContain(WebAssets.DEV_MAIL_META);
    }

    @Test
    void pageSaysTheClientIsMissingWhenTheBuildHadNoNpm() {
        WebAssets withoutPhoenix = new WebAssets(Optional.empty(),
                resource -> resource.equals("web/vendor/phoenix.mjs") ? null : WebAssets.read(resource));

        assertThat(page(withoutPhoenix)).contains("The web client is not in this build").doesNotContain("/js/app.js");
        assertThat(page(new WebAssets(Optional.empty()))).contains("/js/app.js");
    }

    @Test
    void mailPageAddressIsEscaped() {
        assertThat(page(new WebAssets(Optional.of("http://x/\"><script>")))).contains("content=\"http://x/&quot;&gt;&lt;script&gt;\"");
    }

    @Test
    void etagFollowsTheContent() {
        WebAsset one = WebAsset.of("one", "text/plain");
        WebAsset same = WebAsset.of("one", "text/plain");
        WebAsset other = WebAsset.of("two", "text/plain");

        assertThat(one.etag()).isEqualTo(same.etag()).isNotEqualTo(other.etag()).startsWith("\"").endsWith("\"");
        assertThat(one.matches(one.etag())).isTrue();
        assertThat(one.matches("W/" + one.etag() + ", " + other.etag())).isTrue();
        assertThat(one.matches("*")).isTrue();
        assertThat(one.matches(other.etag())).isFalse();
        assertThat(one.matches(null)).isFalse();
    }

    private static String page(WebAssets assets) {
        return new String(assets.load("/").orElseThrow().bytes(), StandardCharsets.UTF_8);
    }
}

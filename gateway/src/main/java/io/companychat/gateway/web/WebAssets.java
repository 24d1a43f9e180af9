package io.companychat.gateway.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.companychat.gateway.config.GatewayConfig;
import io.quarkus.logging.Log;

/**
 * The web client's files, from the classpath folder {@code web/} (the page's own files from
 * {@code src/main/resources/web}, the pinned {@code phoenix} client copied into {@code web/vendor} by the build).
 * Each file is read once, on first request, and kept: only files that exist are kept, so the cache holds at most
 * the folder.
 */
@ApplicationScoped
public class WebAssets {

    static final String INDEX = "/index.html";
    /** The page, when the build had no npm to fetch the phoenix client: it says so instead of failing to load. */
    static final String UNAVAILABLE = "/unavailable.html";
    static final String PHOENIX = "/vendor/phoenix.mjs";
    /** The placeholder in index.html that carries the local run's mail page to the script. */
    static final String DEV_MAIL_META = "<meta name=\"dev-mail-page\" content=\"\">";
    static final String DEV_MAIL_PATH = "/dev/sent-mails";

    private static final String ROOT = "web";
    /** Plain names with an extension, in plain folders: nothing a classpath lookup could read as a directory. */
    private static final Pattern FILE_PATH = Pattern.compile("(?:/[A-Za-z0-9_-]+)*/[A-Za-z0-9_-]+(?:\\.[A-Za-z0-9]+)+");
    private static final Map<String, String> CONTENT_TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "mjs", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml",
            "png", "image/png",
            "map", "application/json");

    private final ConcurrentMap<String, WebAsset> loaded = new ConcurrentHashMap<>();
    private final Optional<String> devMailPage;
    private final Function<String, byte[]> classpath;

    @Inject
    public WebAssets(WebClientConfig web, GatewayConfig gateway) {
        this(web.devMailPage() ? Optional.of(gateway.userServiceUrl() + DEV_MAIL_PATH) : Optional.empty());
    }

    WebAssets(Optional<String> devMailPage) {
        this(devMailPage, WebAssets::read);
    }

    /** {@code classpath} reads a resource, or answers null when there is none. */
    WebAssets(Optional<String> devMailPage, Function<String, byte[]> classpath) {
        this.devMailPage = devMailPage;
        this.classpath = classpath;
    }

    /** The file a request path names: {@code /} is the page. */
    static String fileOf(String path) {
        return "/".equals(path) ? INDEX : path;
    }

    /** Whether the path could name a file of the client at all; cheap, so that other paths never wait for a lookup. */
    static boolean isCandidate(String path) {
        String file = fileOf(path);
        return FILE_PATH.matcher(file).matches() && CONTENT_TYPES.containsKey(extension(file));
    }

    /** The file if it was read before; never blocks. */
    Optional<WebAsset> cached(String path) {
        return Optional.ofNullable(loaded.get(fileOf(path)));
    }

    /** The file, read from the classpath if need be: blocking, for a worker thread. */
    Optional<WebAsset> load(String path) {
        String file = fileOf(path);
        WebAsset known = loaded.get(file);
        if (known != null || !isCandidate(path)) {
            return Optional.ofNullable(known);
        }
        byte[] bytes = classpath.apply(ROOT + (INDEX.equals(file) && !hasPhoenix() ? UNAVAILABLE : file));
        if (bytes == null) {
            return Optional.empty();
        }
        String type = CONTENT_TYPES.get(extension(file));
        WebAsset asset = INDEX.equals(file)
                ? WebAsset.of(withDevMailPage(new String(bytes, StandardCharsets.UTF_8)), type)
                : WebAsset.of(bytes, type);
        WebAsset first = loaded.putIfAbsent(file, asset);
        return Optional.of(first == null ? asset : first);
    }

    private boolean hasPhoenix() {
        if (classpath.apply(ROOT + PHOENIX) != null) {
            return true;
        }
        Log.warn("The web client's phoenix library is missing (the gateway was built without npm): / shows a page that says so");
        return false;
    }

    private String withDevMailPage(String html) {
        return devMailPage
                .map(url -> html.replace(DEV_MAIL_META,
                        "<meta name=\"dev-mail-page\" content=\"" + escapeAttribute(url) + "\">"))
                .orElse(html);
    }

    private static String escapeAttribute(String value) {
        return value.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static byte[] read(String resource) {
        try (InputStream in = WebAssets.class.getClassLoader().getResourceAsStream(resource)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + resource, e);
        }
    }

    private static String extension(String file) {
        return file.substring(file.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
    }
}

package io.companychat.chat;

import static io.companychat.chat.support.Chat.messagesOf;
import static io.companychat.chat.support.HttpAssertions.expectMessage;
import static io.companychat.chat.support.HttpAssertions.expectStatus;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.companychat.chat.support.Chat;
import io.companychat.chat.support.InjectUserService;
import io.companychat.chat.support.UserServiceDouble;
import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.InjectTestTokens;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokens;
import io.companychat.common.testing.TestTokensResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** History pages: newest first, keyset cursors, stable while messages arrive. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class HistoryTest {

    private static final int MESSAGES = 230;
    private static final List<Integer> PAGE_SIZES = List.of(50, 50, 50, 50, 30);
    private static final List<String> BAD_LIMITS = List.of("0", "-1", "101", "abc", "1.5", " 5", "99999999999999999999");
    private static final List<String> BAD_CURSORS = List.of("0", "-3", "abc", "1.5", "0x10", "99999999999999999999");

    @InjectTestDatabase
    TestDatabase database;
    @InjectTestTokens
    TestTokens tokens;
    @InjectUserService
    UserServiceDouble userService;

    private Chat chat;
    private long ann;
    private long bob;
    private long conversation;

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
        ann = chat.newUser("Ann");
        bob = chat.newUser("Bob");
        conversation = chat.conversation(ann, bob);
    }

    @Test
    void twoHundredThirtyMessagesPageBackAs50_50_50_50_30WithoutGapOrDuplicate() {
        List<Long> posted = storeAlternately(MESSAGES);

        List<Page> pages = pageBack(bob, null, () -> { });

        assertThat(pages.stream().map(p -> p.ids().size()).toList()).as("page sizes").isEqualTo(PAGE_SIZES);
        assertThat(pages.stream().flatMap(p -> p.ids().stream()).toList()).as("all pages together, newest first")
                .isEqualTo(posted.stream().sorted(Comparator.reverseOrder()).toList());
        assertThat(pages.get(pages.size() - 1).next()).as("next of the last page").isNull();
        assertThat(pages.subList(0, pages.size() - 1)).as("pages before the last have a next").allMatch(p -> p.next() != null);
    }

    @Test
    void pagesStayStableWhileNewMessagesArrive() {
        List<Long> posted = storeAlternately(MESSAGES);
        List<Long> arrivedMeanwhile = new ArrayList<>();

        List<Page> pages = pageBack(ann, null, () -> {
            arrivedMeanwhile.add(chat.post(bob, conversation, "meanwhile " + arrivedMeanwhile.size()));
            arrivedMeanwhile.add(chat.post(ann, conversation, "meanwhile " + arrivedMeanwhile.size()));
        });

        assertThat(pages.stream().map(p -> p.ids().size()).toList()).as("page sizes").isEqualTo(PAGE_SIZES);
        assertThat(pages.stream().flatMap(p -> p.ids().stream()).toList())
                .as("the 230 messages there when paging began, each exactly once, newest first")
                .isEqualTo(posted.stream().sorted(Comparator.reverseOrder()).toList());
        assertThat(arrivedMeanwhile).as("messages posted between page requests").hasSize(2 * (PAGE_SIZES.size() - 1));
        assertThat(page(ann, "?limit=8").ids()).as("a fresh first page shows the new messages")
                .isEqualTo(arrivedMeanwhile.stream().sorted(Comparator.reverseOrder()).toList());
    }

    @Test
    void aPlainMessageIdWorksAsTheCursor() {
        List<Long> posted = postAlternately(12);

        Page older = page(ann, "?limit=5&before=" + posted.get(7));

        assertThat(older.ids()).as("the five messages before the 8th").containsExactly(posted.get(6), posted.get(5),
                posted.get(4), posted.get(3), posted.get(2));
        assertThat(older.next()).as("next").isEqualTo(Long.toString(posted.get(2)));
        assertThat(page(ann, "?before=" + posted.get(0)).ids()).as("nothing before the first message").isEmpty();
        assertThat(page(ann, "?before=" + posted.get(0)).next()).as("next before the first message").isNull();
    }

    @Test
    void limitSetsThePageSizeFromOneToAHundred() {
        List<Long> posted = storeAlternately(120);

        assertThat(page(ann, "").ids()).as("default page").hasSize(50);
        assertThat(page(ann, "?limit=&before=").ids()).as("empty values count as none").hasSize(50);
        assertThat(page(ann, "?limit=1").ids()).as("limit 1").containsExactly(posted.get(119));
        assertThat(page(ann, "?limit=100").ids()).as("limit 100").hasSize(100);
        Page exact = page(ann, "?limit=20&before=" + posted.get(20));
        assertThat(exact.ids()).as("the last 20").hasSize(20);
        assertThat(exact.next()).as("next when exactly the rest fits the page").isNull();
    }

    /**
     * A page of 100 messages (over Quarkus's 8 KB output buffer) leaves whole with its length rather than chunked
     * ({@code quarkus.rest.output-buffer-size}): one write, and a client knows the size before the body.
     */
    @Test
    void aLargePageIsSentWithItsLengthNotChunked() {
        storeAlternately(100);

        Response response = expectStatus(chat.as(ann).queryParam("limit", 100).get(messagesOf(conversation)), 200, "history");

        assertThat(response.header("Transfer-Encoding")).as("Transfer-Encoding").isNull();
        assertThat(response.header("Content-Length")).as("Content-Length").isNotNull();
        assertThat(Integer.parseInt(response.header("Content-Length"))).as("Content-Length")
                .isEqualTo(response.asByteArray().length).isGreaterThan(8192);
    }

    @Test
    void emptyConversationHasAnEmptyPageAndNoNext() {
        Page page = page(bob, "");

        assertThat(page.ids()).as("messages").isEmpty();
        assertThat(page.next()).as("next").isNull();
    }

    @Test
    void messageJsonInHistoryHasTheApiFields() {
        chat.post(ann, conversation, "hello");

        Response response = expectStatus(chat.as(bob).get(messagesOf(conversation)), 200, "history");

        assertThat(response.jsonPath().getMap("$")).as("page JSON").containsOnlyKeys("data", "next");
        assertThat(response.jsonPath().getMap("data[0]")).as("message JSON").containsOnlyKeys("id", "conversation_id",
                "sender_id", "content", "date", "inserted_at", "edited_at", "deleted_at");
        assertThat(response.jsonPath().getString("data[0].content")).as("content").isEqualTo("hello");
    }

    @Test
    void badLimitOrCursorIs400() {
        postAlternately(3);
        for (String limit : BAD_LIMITS) {
            expectMessage(chat.as(ann).queryParam("limit", limit).get(messagesOf(conversation)), 400, "limit '" + limit + "'");
        }
        for (String before : BAD_CURSORS) {
            expectMessage(chat.as(ann).queryParam("before", before).get(messagesOf(conversation)), 400,
                    "before '" + before + "'");
        }
    }

    private record Page(List<Long> ids, String next) {
    }

    /** Stores {@code count} messages at once, Ann and Bob taking turns; returns their ids in posting order. */
    private List<Long> storeAlternately(int count) {
        return chat.newMessages(conversation, count, ann, bob);
    }

    /** Posts {@code count} messages through the API, Ann and Bob taking turns; returns their ids in posting order. */
    private List<Long> postAlternately(int count) {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(chat.post(i % 2 == 0 ? ann : bob, conversation, "message " + i));
        }
        return ids;
    }

    /** Follows {@code next} from the first page to the last, running {@code betweenPages} after each page that has a next. */
    private List<Page> pageBack(long userId, String start, Runnable betweenPages) {
        List<Page> pages = new ArrayList<>();
        String before = start;
        do {
            Page page = page(userId, before == null ? "" : "?before=" + before);
            pages.add(page);
            before = page.next();
            if (before != null) {
                betweenPages.run();
            }
            assertThat(pages).as("pages followed").hasSizeLessThan(20);
        } while (before != null);
        return pages;
    }

    private Page page(long userId, String query) {
        Response response = expectStatus(chat.as(userId).get(messagesOf(conversation) + query), 200, "history " + query);
        return new Page(response.jsonPath().getList("data.id", Long.class), response.jsonPath().getString("next"));
    }
}

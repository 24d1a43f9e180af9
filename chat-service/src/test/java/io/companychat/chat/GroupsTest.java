package io.companychat.chat;

import static io.companychat.chat.support.Chat.CONVERSATIONS;
import static io.companychat.chat.support.Chat.conversationOf;
import static io.companychat.chat.support.Chat.membersOf;
import static io.companychat.chat.support.Chat.messagesOf;
import static io.companychat.chat.support.HttpAssertions.expectFieldErrors;
import static io.companychat.chat.support.HttpAssertions.expectMessage;
import static io.companychat.chat.support.HttpAssertions.expectStatus;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.companychat.chat.support.Chat;
import io.companychat.chat.support.InjectUserService;
import io.companychat.chat.support.Parallel;
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

/** Group conversations over REST (API.md "Group conversations"): every route, rule and error. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class GroupsTest {

    private static final long UNKNOWN_USER = 987_654_321L;
    private static final List<String> BLANK = List.of("can't be blank");
    private static final List<String> INVALID = List.of("is invalid");
    private static final List<String> DOES_NOT_EXIST = List.of("does not exist");
    private static final List<String> TITLE_TOO_LONG = List.of("should be at most 100 character(s)");
    private static final List<String> TOO_MANY = List.of("should be at most 255 item(s)");
    private static final int RACE_ROUNDS = 6;

    @InjectTestDatabase
    TestDatabase database;
    @InjectTestTokens
    TestTokens tokens;
    @InjectUserService
    UserServiceDouble userService;

    private Chat chat;
    private long ann;
    private long bob;
    private long cid;
    private long eve;

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
        ann = chat.newUser("Ann");
        bob = chat.newUser("Bob");
        cid = chat.newUser("Cid");
        eve = chat.newUser("Eve");
    }

    @AfterEach
    void restoreUserService() {
        userService.answerTogether(1);
    }

    @Test
    void creatingAGroupIs201WithTheCallerAndTheMembersDuplicatesAndOwnIdIgnored() {
        Instant before = Instant.now().minusSeconds(5);
        Response created = expectStatus(create(ann, Map.of("title", "Team", "member_ids", List.of(cid, bob, cid, ann))), 201,
                "create");

        Map<String, Object> json = created.jsonPath().getMap("$");
        assertThat(json).as("group JSON").containsOnlyKeys("id", "kind", "title", "sender_id", "recipient_id",
                "member_ids", "status", "inserted_at", "updated_at", "last_message",
                "last_read_id", "unread_count");
        assertThat(json.get("kind")).isEqualTo("group");
        assertThat(json.get("title")).isEqualTo("Team");
        assertThat(((Number) json.get("sender_id")).longValue()).as("sender_id is the creator").isEqualTo(ann);
        assertThat(json.get("recipient_id")).as("recipient_id of a group").isNull();
        assertThat(created.jsonPath().getList("member_ids", Long.class)).as("members, ascending")
                .containsExactlyElementsOf(sorted(ann, bob, cid));
        assertThat(json.get("status")).isEqualTo("active");
        assertThat(json.get("last_message")).isNull();
        assertThat(Instant.parse((String) json.get("inserted_at"))).isAfter(before);
        long id = created.jsonPath().getLong("id");
        assertThat(chat.queryLong("SELECT count(*) FROM conversation_members WHERE conversation_id = ?", id))
                .as("membership rows").isEqualTo(3);
    }

    @Test
    void aGroupIsNeverMergedWithAnExistingOneNorWithTheDirectConversation() {
        long direct = chat.conversation(ann, bob);
        long first = chat.group(ann, "Pair", bob);
        long second = chat.group(ann, "Pair", bob);
        long byBob = chat.group(bob, "Pair", ann);

        assertThat(List.of(direct, first, second, byBob)).as("four conversations of the same two people").doesNotHaveDuplicates();
        assertThat(chat.conversation(bob, ann)).as("the direct conversation is still the pair's").isEqualTo(direct);
    }

    @Test
    void titleRulesAre422OnTitle() {
        expectFieldErrors(create(ann, Map.of("member_ids", List.of(bob), "title", "")), Map.of("title", BLANK), "empty title");
        expectFieldErrors(create(ann, Map.of("member_ids", List.of(bob), "title", " \t\u00a0")), Map.of("title", BLANK),
                "whitespace title");
        expectFieldErrors(create(ann, Map.of("member_ids", List.of(bob))), Map.of("title", BLANK), "no title");
        expectFieldErrors(create(ann, Map.of("member_ids", List.of(bob), "title", "t".repeat(101))),
                Map.of("title", TITLE_TOO_LONG), "101 characters");
        expectStatus(create(ann, Map.of("member_ids", List.of(bob), "title", "😀".repeat(100))), 201, "100 emoji");
        expectStatus(create(ann, "{\"member_ids\": [" + bob + "], \"title\": 5}"), 400, "title not a string");
        assertThat(groupsOf(ann)).as("groups stored by the refused requests").isEqualTo(1);
    }

    @Test
    void memberIdsRulesAre422OnMemberIds() {
        expectFieldErrors(create(ann, Map.of("title", "T")), Map.of("member_ids", BLANK), "missing member_ids");
        expectFieldErrors(create(ann, "{\"title\": \"T\", \"member_ids\": null}"), Map.of("member_ids", BLANK), "null");
        expectFieldErrors(create(ann, Map.of("title", "T", "member_ids", List.of())), Map.of("member_ids", BLANK), "empty");
        expectFieldErrors(create(ann, Map.of("title", "T", "member_ids", List.of(ann, ann))), Map.of("member_ids", BLANK),
                "only the caller");
        expectFieldErrors(create(ann, Map.of("title", "T", "member_ids", List.of(bob, UNKNOWN_USER))),
                Map.of("member_ids", DOES_NOT_EXIST), "an unknown id");
        expectFieldErrors(create(ann, Map.of("title", "T", "member_ids", List.of(bob, 0))), Map.of("member_ids", DOES_NOT_EXIST),
                "id 0");
        expectFieldErrors(create(ann, Map.of("title", "T", "member_ids", List.of(-3))), Map.of("member_ids", DOES_NOT_EXIST),
                "negative id");
        expectFieldErrors(create(ann, Map.of("title", "T", "member_ids", List.of(bob), "recipient_id", bob)),
                Map.of("member_ids", INVALID), "both recipient_id and member_ids");
        expectFieldErrors(create(ann, Map.of("title", "", "member_ids", List.of())),
                Map.of("title", BLANK, "member_ids", BLANK), "both fields wrong at once");
        expectStatus(create(ann, "{\"title\": \"T\", \"member_ids\": [\"" + bob + "\"]}"), 400, "id as a string");
        expectStatus(create(ann, "{\"title\": \"T\", \"member_ids\": [1.5]}"), 400, "fractional id");
        expectStatus(create(ann, "{\"title\": \"T\", \"member_ids\": [null]}"), 400, "null id");
        expectStatus(create(ann, "{\"title\": \"T\", \"member_ids\": " + bob + "}"), 400, "not an array");
        assertThat(groupsOf(ann)).as("groups stored by refused requests").isZero();
    }

    @Test
    void moreThan255DistinctOthersIs422WhateverTheIdsAnd255IsAccepted() {
        List<Long> unknown = LongStream.rangeClosed(1, 256).map(i -> UNKNOWN_USER + i).boxed().toList();
        expectFieldErrors(create(ann, Map.of("title", "Huge", "member_ids", unknown)), Map.of("member_ids", TOO_MANY),
                "256 unknown ids");
        List<Long> repeated = new ArrayList<>(unknown.subList(0, 255));
        repeated.addAll(unknown.subList(0, 255));
        repeated.add(ann);
        expectFieldErrors(create(ann, Map.of("title", "Huge", "member_ids", repeated)), Map.of("member_ids", DOES_NOT_EXIST),
                "255 distinct unknown ids, each twice, and the caller: counted as 255, then checked");

        List<Long> others = newUsers(255);
        Response created = expectStatus(create(ann, Map.of("title", "Full", "member_ids", others)), 201, "255 others");
        assertThat(created.jsonPath().getList("member_ids")).as("members of a full group").hasSize(256);
    }

    @Test
    void aBodyWithRecipientIdAloneIsStillADirectConversation() {
        Response direct = expectStatus(create(ann, Map.of("recipient_id", bob)), 201, "direct");
        assertThat(direct.jsonPath().getString("kind")).isEqualTo("direct");
        assertThat(direct.jsonPath().getLong("recipient_id")).isEqualTo(bob);
        expectFieldErrors(create(ann, Map.of("recipient_id", cid, "title", "Pair")), Map.of("title", INVALID),
                "a title for a direct conversation");
        expectFieldErrors(create(ann, Map.of()), Map.of("recipient_id", BLANK), "an empty body, as in Part 1");
    }

    @Test
    void getIs200ForMembersAnd404ForEveryoneElse() {
        long group = chat.group(ann, "Team", bob);
        long direct = chat.conversation(ann, cid);
        long message = chat.post(bob, group, "first");

        Response seen = expectStatus(chat.as(bob).get(conversationOf(group)), 200, "member");
        assertThat(seen.jsonPath().getString("title")).isEqualTo("Team");
        assertThat(seen.jsonPath().getLong("last_message.id")).as("last_message").isEqualTo(message);
        assertThat(seen.jsonPath().getString("last_message.content")).isEqualTo("first");
        Response pair = expectStatus(chat.as(cid).get(conversationOf(direct)), 200, "direct member");
        assertThat(pair.jsonPath().getList("member_ids", Long.class)).containsExactlyElementsOf(sorted(ann, cid));

        expectNotFound(chat.as(eve).get(conversationOf(group)), "outsider on a group");
        expectNotFound(chat.as(bob).get(conversationOf(direct)), "outsider on a direct conversation");
        expectNotFound(chat.as(ann).get(conversationOf(Long.MAX_VALUE / 2)), "unknown id");
        expectNotFound(chat.as(ann).get(CONVERSATIONS + "/abc"), "not an id");
    }

    @Test
    void anyMemberMayRenameAGroupWithTheTitleRules() {
        long group = chat.group(ann, "Old", bob);

        Response renamed = expectStatus(chat.as(bob).body(Map.of("title", "New")).patch(conversationOf(group)), 200, "rename");
        assertThat(renamed.jsonPath().getString("title")).isEqualTo("New");
        assertThat(renamed.jsonPath().getLong("sender_id")).as("the creator stays").isEqualTo(ann);
        assertThat(chat.as(ann).get(conversationOf(group)).jsonPath().getString("title")).isEqualTo("New");

        expectFieldErrors(chat.as(ann).body(Map.of("title", " ")).patch(conversationOf(group)), Map.of("title", BLANK), "blank");
        expectFieldErrors(chat.as(ann).body(Map.of()).patch(conversationOf(group)), Map.of("title", BLANK), "missing");
        expectFieldErrors(chat.as(ann).body(Map.of("title", "x".repeat(101))).patch(conversationOf(group)),
                Map.of("title", TITLE_TOO_LONG), "too long");
        expectStatus(chat.as(ann).body("{\"title\": true}").patch(conversationOf(group)), 400, "not a string");
        long direct = chat.conversation(ann, cid);
        expectFieldErrors(chat.as(ann).body(Map.of("title", "Pair")).patch(conversationOf(direct)), Map.of("title", INVALID),
                "a direct conversation");
        // API.md: a direct conversation is "is invalid" on title, whatever the title
        expectFieldErrors(chat.as(ann).body(Map.of("title", " ")).patch(conversationOf(direct)), Map.of("title", INVALID),
                "a direct conversation, blank title");
        expectFieldErrors(chat.as(ann).body(Map.of()).patch(conversationOf(direct)), Map.of("title", INVALID),
                "a direct conversation, no title");
        expectFieldErrors(chat.as(ann).body(Map.of("title", "x".repeat(101))).patch(conversationOf(direct)),
                Map.of("title", INVALID), "a direct conversation, title too long");
        expectNotFound(chat.as(eve).body(Map.of("title", "Mine")).patch(conversationOf(group)), "an outsider");
        expectNotFound(chat.as(eve).body(Map.of("title", " ")).patch(conversationOf(group)), "an outsider, blank title");
        assertThat(chat.as(ann).get(conversationOf(group)).jsonPath().getString("title")).as("title after refusals")
                .isEqualTo("New");
    }

    @Test
    void anyMemberMayAddAndAddingAMemberAgainChangesNothing() {
        long group = chat.group(ann, "Team", bob);

        Response added = expectStatus(addMember(bob, group, cid), 200, "Bob adds Cid");
        assertThat(added.jsonPath().getList("member_ids", Long.class)).containsExactlyElementsOf(sorted(ann, bob, cid));
        String updatedAt = added.jsonPath().getString("updated_at");

        Response again = expectStatus(addMember(ann, group, cid), 200, "Cid again");
        assertThat(again.jsonPath().getList("member_ids", Long.class)).containsExactlyElementsOf(sorted(ann, bob, cid));
        assertThat(again.jsonPath().getString("updated_at")).as("unchanged").isEqualTo(updatedAt);
        assertThat(chat.queryLong("SELECT count(*) FROM conversation_members WHERE conversation_id = ?", group)).isEqualTo(3);
    }

    @Test
    void addingIsRefusedAsApiMdSays() {
        long group = chat.group(ann, "Team", bob);
        long direct = chat.conversation(ann, cid);

        expectFieldErrors(addMember(ann, group, UNKNOWN_USER), Map.of("user_id", DOES_NOT_EXIST), "unknown user");
        expectFieldErrors(addMember(ann, group, 0), Map.of("user_id", DOES_NOT_EXIST), "user 0");
        expectFieldErrors(chat.as(ann).body(Map.of()).post(membersOf(group)), Map.of("user_id", BLANK), "no user_id");
        expectStatus(chat.as(ann).body("{\"user_id\": \"" + cid + "\"}").post(membersOf(group)), 400, "user_id as a string");
        expectFieldErrors(addMember(ann, direct, eve), Map.of("user_id", INVALID), "a direct conversation");
        expectNotFound(addMember(eve, group, eve), "an outsider adding themself");
        expectNotFound(addMember(ann, Long.MAX_VALUE / 2, cid), "unknown conversation");
        assertThat(chat.queryLong("SELECT count(*) FROM conversation_members WHERE conversation_id = ?", group)).isEqualTo(2);
        assertThat(chat.queryLong("SELECT count(*) FROM conversation_members WHERE conversation_id = ?", direct)).isEqualTo(2);
    }

    @Test
    void aGroupOf256TakesNoOneMoreUntilSomeoneLeaves() {
        List<Long> others = newUsers(255);
        long group = chat.group(ann, "Full", others.toArray(Long[]::new));
        expectFieldErrors(addMember(ann, group, bob), Map.of("user_id", INVALID), "the 257th");
        expectStatus(addMember(ann, group, others.get(0)), 200, "a member again, even when full");

        chat.removeMember(others.get(7), group, others.get(7));
        Response added = expectStatus(addMember(ann, group, bob), 200, "Bob, once someone left");
        assertThat(added.jsonPath().getList("member_ids")).hasSize(256);
    }

    @Test
    void leavingRemovingAndTheirRefusals() {
        long group = chat.group(ann, "Team", bob, cid, eve);

        expectStatus(removeMember(bob, group, bob), 204, "Bob leaves");
        expectStatus(removeMember(cid, group, eve), 403, "Cid (not the creator) removes Eve");
        expectStatus(removeMember(ann, group, eve), 204, "the creator removes Eve");
        expectStatus(removeMember(ann, group, bob), 204, "the creator removes Bob, no longer a member");
        expectStatus(removeMember(cid, group, bob), 403, "Cid removes Bob, not a member, as a non-creator");
        expectNotFound(removeMember(bob, group, cid), "Bob, gone, removes Cid");
        expectNotFound(removeMember(bob, group, bob), "Bob leaves again");
        // 2^63-1 is a well-formed id (common's Ids, the same for every route) that names no member: a non-member, 204.
        expectStatus(chat.as(ann).delete(membersOf(group) + "/" + Long.MAX_VALUE), 204, "removing an unknown user id of 19 digits");
        expectNotFound(chat.as(ann).delete(membersOf(group) + "/abc"), "a user id that is no id");

        long direct = chat.conversation(ann, bob);
        expectStatus(removeMember(ann, direct, ann), 403, "leaving a direct conversation");
        expectStatus(removeMember(ann, direct, bob), 403, "removing the other of a direct conversation");
        expectNotFound(removeMember(cid, direct, ann), "an outsider on a direct conversation");

        Response group2 = expectStatus(chat.as(ann).get(conversationOf(group)), 200, "the group");
        assertThat(group2.jsonPath().getList("member_ids", Long.class)).containsExactlyElementsOf(sorted(ann, cid));
        assertThat(chat.as(bob).get(conversationOf(direct)).jsonPath().getList("member_ids", Long.class))
                .containsExactlyElementsOf(sorted(ann, bob));

        expectStatus(removeMember(ann, group, ann), 204, "the creator leaves too");
        expectNotFound(chat.as(ann).get(conversationOf(group)), "the creator, gone");
        expectStatus(chat.as(cid).get(conversationOf(group)), 200, "Cid, the last member");
    }

    @Test
    void aFormerMemberGets404OnEverythingAndLosesTheGroupFromTheListUntilAddedAgain() {
        long group = chat.group(ann, "Team", bob);
        long before = chat.post(ann, group, "before Bob left");
        chat.removeMember(bob, group, bob);
        long during = chat.post(ann, group, "while Bob was away");

        expectNotFound(chat.as(bob).get(conversationOf(group)), "get");
        expectNotFound(chat.as(bob).get(messagesOf(group)), "history");
        expectNotFound(chat.as(bob).body(Map.of("content", "still here?")).post(messagesOf(group)), "post");
        expectNotFound(chat.as(bob).body(Map.of("title", "Mine")).patch(conversationOf(group)), "rename");
        expectNotFound(addMember(bob, group, bob), "adding themself back");
        assertThat(listIds(bob)).as("Bob's list").doesNotContain(group);
        assertThat(chat.countMessages(group)).as("messages stored").isEqualTo(2);

        chat.addMember(ann, group, bob);
        assertThat(listIds(bob)).as("Bob's list once added again").contains(group);
        assertThat(history(bob, group)).as("the whole history, also from while he was away").containsExactly(during, before);
    }

    @Test
    void aNewMemberSeesTheWholeHistory() {
        long group = chat.group(ann, "Team", bob);
        List<Long> said = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            said.add(0, chat.post(i % 2 == 0 ? ann : bob, group, "said " + i));
        }
        chat.addMember(bob, group, cid);
        assertThat(history(cid, group)).containsExactlyElementsOf(said);
        long cids = chat.post(cid, group, "hello all");
        assertThat(history(ann, group).get(0)).isEqualTo(cids);
    }

    @Test
    void theListHasGroupsAndDirectConversationsMostRecentActivityFirst() {
        long direct = chat.conversation(ann, bob);
        long team = chat.group(bob, "Team", ann, cid);
        long other = chat.group(cid, "Not Ann's", bob);
        assertThat(listIds(ann)).as("newest first").containsExactly(team, direct);

        chat.post(bob, direct, "hi");
        assertThat(listIds(ann)).as("after a message in the direct one").containsExactly(direct, team);
        long late = chat.group(cid, "Later", bob);
        chat.post(cid, team, "news");
        chat.addMember(cid, late, ann);
        assertThat(listIds(ann)).as("being added counts as activity").containsExactly(late, team, direct);
        assertThat(listIds(bob)).contains(other, team, direct, late);

        Response list = expectStatus(chat.as(ann).get(CONVERSATIONS), 200, "list");
        assertThat(list.jsonPath().getString("data[1].kind")).isEqualTo("group");
        assertThat(list.jsonPath().getString("data[1].last_message.content")).isEqualTo("news");
        assertThat(list.jsonPath().getString("data[2].kind")).isEqualTo("direct");
        assertThat(list.jsonPath().getList("data[1].member_ids", Long.class)).containsExactlyElementsOf(sorted(ann, bob, cid));
    }

    @Test
    void twoMembersAddedAtOnceAreBothMembers() throws Exception {
        for (int round = 0; round < RACE_ROUNDS; round++) {
            long dan = chat.newUser("Dan");
            long fay = chat.newUser("Fay");
            long group = chat.group(ann, "Race " + round, bob);
            // Both lookups held at user-service until both arrive, so both adds are in flight together.
            userService.answerTogether(2);

            List<Response> responses = Parallel.run(() -> addMember(ann, group, dan), () -> addMember(bob, group, fay));
            userService.answerTogether(1);

            for (Response response : responses) {
                expectStatus(response, 200, "round " + round + ": add");
            }
            assertThat(chat.as(ann).get(conversationOf(group)).jsonPath().getList("member_ids", Long.class))
                    .as("round %d: members", round).containsExactlyElementsOf(sorted(ann, bob, dan, fay));
            List<List<Long>> answered = responses.stream().map(r -> r.jsonPath().getList("member_ids", Long.class)).toList();
            assertThat(answered).as("round %d: one answer already shows both", round)
                    .anySatisfy(members -> assertThat(members).hasSize(4));
        }
    }

    @Test
    void twoAddsRacingForTheLastPlaceLetExactlyOneIn() throws Exception {
        for (int round = 0; round < 2; round++) {
            long group = chat.group(ann, "Almost full " + round, newUsers(254).toArray(Long[]::new));
            long dan = chat.newUser("Dan");
            long fay = chat.newUser("Fay");
            userService.answerTogether(2);

            List<Response> responses = Parallel.run(() -> addMember(ann, group, dan), () -> addMember(ann, group, fay));
            userService.answerTogether(1);

            List<Integer> statuses = responses.stream().map(Response::statusCode).sorted().toList();
            assertThat(statuses).as("round %d: %s", round, responses.stream().map(Response::asString).toList())
                    .containsExactly(200, 422);
            assertThat(chat.queryLong("SELECT count(*) FROM conversation_members WHERE conversation_id = ?", group))
                    .as("round %d: members", round).isEqualTo(256);
        }
    }

    @Test
    void concurrentLeavesAndRemovalsEndConsistent() throws Exception {
        long group = chat.group(ann, "Churn", bob, cid, eve);
        List<Supplier<Response>> changes = List.of(() -> removeMember(bob, group, bob), () -> removeMember(ann, group, cid),
                () -> removeMember(eve, group, eve), () -> removeMember(ann, group, bob));

        List<Response> responses = Parallel.run(changes);

        // Bob leaving races with Ann removing him: if her removal commits first, he is no member any more and his
        // own DELETE is an outsider's 404 (API.md); every other change is a member's or the creator's, 204.
        assertThat(responses.get(0).statusCode()).as("Bob leaving while Ann removes him").isIn(204, 404);
        for (Response response : responses.subList(1, responses.size())) {
            expectStatus(response, 204, "removal");
        }
        assertThat(chat.as(ann).get(conversationOf(group)).jsonPath().getList("member_ids", Long.class))
                .containsExactly(ann);
    }

    private Response create(long callerId, Object body) {
        return chat.as(callerId).body(body).when().post(CONVERSATIONS);
    }

    private Response addMember(long callerId, long conversationId, long userId) {
        return chat.as(callerId).body(Map.of("user_id", userId)).when().post(membersOf(conversationId));
    }

    private Response removeMember(long callerId, long conversationId, long userId) {
        return chat.as(callerId).when().delete(membersOf(conversationId) + "/" + userId);
    }

    private List<Long> listIds(long userId) {
        return expectStatus(chat.as(userId).get(CONVERSATIONS), 200, "list").jsonPath().getList("data.id", Long.class);
    }

    private List<Long> history(long userId, long conversationId) {
        return expectStatus(chat.as(userId).get(messagesOf(conversationId)), 200, "history").jsonPath()
                .getList("data.id", Long.class);
    }

    private long groupsOf(long creatorId) {
        return chat.queryLong("SELECT count(*) FROM conversations WHERE kind = 'group' AND sender_id = ?", creatorId);
    }

    private List<Long> newUsers(int count) {
        return chat.newUsers("Member", count);
    }

    private static List<Long> sorted(long... ids) {
        return LongStream.of(ids).sorted().boxed().toList();
    }

    private static void expectNotFound(Response response, String what) {
        expectMessage(response, 404, what);
        assertThat(response.jsonPath().getString("message")).as(what).isEqualTo("not found");
    }
}

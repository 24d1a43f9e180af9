package io.companychat.chat;

import java.time.Instant;
import java.util.List;

/**
 * A row of {@code conversations} with its current members (rows of {@code conversation_members},
 * ascending). A direct conversation is the 1:1 of Part 1: two members, {@code recipientId} the
 * other one, no title, one per pair ({@code conversations_pair_key}). A group has a title, its
 * creator as {@code senderId}, no recipient, and up to {@link #MAX_GROUP_MEMBERS} members.
 * Participants are user ids of user-service; this service never reads the users table.
 */
public record Conversation(long id, String kind, String title, long senderId, Long recipientId, String status,
        Instant insertedAt, Instant updatedAt, List<Long> memberIds) {

    public static final String DIRECT = "direct";
    public static final String GROUP = "group";
    public static final String ACTIVE = "active";
    public static final int MAX_TITLE_LENGTH = 100;
    /** The creator and at most 255 others (API.md). */
    public static final int MAX_GROUP_MEMBERS = 256;

    public boolean isGroup() {
        return GROUP.equals(kind);
    }
}

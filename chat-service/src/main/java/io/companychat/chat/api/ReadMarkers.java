package io.companychat.chat.api;

import java.util.List;

/** {@code GET /api/conversations/{id}/reads}: every member's marker, ascending by user ({@code message_id} null for none). */
public record ReadMarkers(List<Marker> data) {

    public record Marker(long userId, Long messageId) {
    }
}

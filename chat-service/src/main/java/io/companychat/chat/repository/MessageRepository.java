package io.companychat.chat.repository;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.Message;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;

@ApplicationScoped
public class MessageRepository implements PanacheRepositoryBase<Message, Long> {

    /**
     * Up to {@code size} messages of the conversation, newest first, older than {@code beforeId}
     * when given: a keyset read of {@code messages_history_idx}, as fast on page 1000 as on page 1,
     * and unaffected by messages that arrive meanwhile (they have higher ids).
     */
    public Uni<List<Message>> newestFirst(long conversationId, Long beforeId, int size) {
        Sort newestFirst = Sort.descending("id");
        var query = beforeId == null
                ? find("conversationId = ?1", newestFirst, conversationId)
                : find("conversationId = ?1 and id < ?2", newestFirst, conversationId, beforeId);
        return query.range(0, size - 1).list();
    }
}

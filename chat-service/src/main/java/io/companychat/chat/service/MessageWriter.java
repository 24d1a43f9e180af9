package io.companychat.chat.service;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.repository.MessageRepository;
import io.companychat.chat.repository.MessageRepository.NewRow;
import io.companychat.chat.repository.MessageRepository.Written;
import io.smallrye.mutiny.Uni;

/**
 * Messages are written with a {@link GroupCommit}: one multi-row INSERT per batch, at most
 * {@code chat.messages.write-batches} batches in flight. An ok reply always means the message is stored.
 */
@ApplicationScoped
public class MessageWriter {

    private final GroupCommit<NewRow, Written> commits;

    public MessageWriter(MessageRepository messages, ChatConfig config) {
        this.commits = new GroupCommit<>(messages::insertBatch, config.messages().writeBatches(),
                config.messages().maxBatchSize());
    }

    /** What became of the row, once its batch is committed (see {@link MessageRepository#insertBatch}). */
    public Uni<Written> write(NewRow row) {
        return commits.write(row);
    }
}

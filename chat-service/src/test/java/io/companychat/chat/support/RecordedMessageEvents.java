package io.companychat.chat.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.agroal.api.AgroalDataSource;
import io.companychat.chat.event.MessageStored;

/**
 * A live-delivery subscriber for tests: records every published message and whether its row
 * was already committed (visible to another connection) when the event arrived.
 */
@ApplicationScoped
public class RecordedMessageEvents {

    public record Observed(MessageStored event, boolean committedWhenPublished) {
    }

    private final AgroalDataSource dataSource;
    private final List<Observed> observed = new CopyOnWriteArrayList<>();

    public RecordedMessageEvents(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Runs where the event is fired (an event loop); the short JDBC check blocks it, acceptable in a test. */
    void on(@Observes MessageStored event) {
        observed.add(new Observed(event, isCommitted(event.message().id())));
    }

    public int count() {
        return observed.size();
    }

    public List<Observed> forMessage(long messageId) {
        return observed.stream().filter(o -> o.event().message().id() == messageId).toList();
    }

    private boolean isCommitted(long messageId) {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement("SELECT 1 FROM messages WHERE id = ?")) {
            statement.setLong(1, messageId);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}

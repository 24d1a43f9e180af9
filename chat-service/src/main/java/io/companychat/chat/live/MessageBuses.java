package io.companychat.chat.live;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.config.ChatConfig.Bus.Kind;

/** The {@link MessageBus} that {@code chat.bus.kind} ({@code CHAT_BUS}) names; the other is never created. */
@ApplicationScoped
public class MessageBuses {

    @Produces
    @Singleton
    MessageBus bus(ChatConfig config, Instance<PgMessageBus> postgres, Instance<NatsMessageBus> nats) {
        return config.bus().kind() == Kind.NATS ? nats.get() : postgres.get();
    }
}

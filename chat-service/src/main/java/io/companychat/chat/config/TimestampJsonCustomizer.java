package io.companychat.chat.config;

import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import jakarta.inject.Singleton;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

import io.quarkus.jackson.ObjectMapperCustomizer;

/**
 * Timestamps as API.md wants them, {@code 2026-11-25T14:03:07.123Z}. common's ChatJsonCustomizer
 * registers the same serializer, but at the default priority, so Quarkus registers its
 * JavaTimeModule after it and that module's serializer (microseconds, no fixed width) wins.
 * This one runs last. Remove it once common's customizer runs after Quarkus's modules.
 */
@Singleton
public class TimestampJsonCustomizer implements ObjectMapperCustomizer {

    static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.registerModule(new SimpleModule("chat-service-timestamps").addSerializer(Instant.class,
                new StdSerializer<>(Instant.class) {
                    @Override
                    public void serialize(Instant value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                        gen.writeString(TIMESTAMP.format(value));
                    }
                }));
    }

    @Override
    public int priority() {
        return MINIMUM_PRIORITY;
    }
}

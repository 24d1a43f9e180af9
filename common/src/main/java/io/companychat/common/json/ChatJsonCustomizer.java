package io.companychat.common.json;

import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import jakarta.inject.Singleton;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.type.LogicalType;

import io.quarkus.jackson.ObjectMapperCustomizer;

/**
 * The JSON rules every service shares: snake_case names (API.md), timestamps as
 * ISO-8601 UTC with milliseconds, and strict types, so that {@code "name": 5} or
 * {@code "recipient_id": "7"} is a 400 rather than silently coerced, and one value per body (anything
 * after it, even another value, is malformed JSON). Deep nesting is cut off early so that hostile
 * bodies cost little.
 */
@Singleton
public class ChatJsonCustomizer implements ObjectMapperCustomizer {

    static final int MAX_NESTING_DEPTH = 64;

    static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    /** Last, after Quarkus registers its own date module, so that our timestamp format wins. */
    @Override
    public int priority() {
        return MINIMUM_PRIORITY;
    }

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
        mapper.configure(MapperFeature.ALLOW_COERCION_OF_SCALARS, false);
        mapper.configure(DeserializationFeature.ACCEPT_FLOAT_AS_INT, false);
        mapper.configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);
        // One JSON value per body or frame: {"content":"x"}xyz is malformed, not {"content":"x"}.
        mapper.configure(DeserializationFeature.FAIL_ON_TRAILING_TOKENS, true);
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        for (LogicalType numeric : new LogicalType[] { LogicalType.Integer, LogicalType.Float, LogicalType.Boolean }) {
            mapper.coercionConfigFor(numeric)
                    .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        }
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .build());
        mapper.registerModule(new SimpleModule("chat-timestamps").addSerializer(Instant.class, new InstantSerializer()));
    }

    /**
     * Writes {@link #TIMESTAMP}'s format by hand for years 1..9999 (every timestamp this system makes)
     * and with {@link #TIMESTAMP} otherwise. Why by hand: a conversation list carries ~2,500
     * timestamps, and {@code DateTimeFormatter} allocated ~1.6 KB for each (a ZonedDateTime, its
     * ZoneRules, a BigDecimal for the fraction, builders and strings): half of all the bytes the
     * service allocated in the list benchmark, and a young GC every few lists. This writes 24 chars
     * from the epoch second with no allocation but the char array; {@code ChatJsonCustomizerTest}
     * checks it against the formatter.
     */
    static final class InstantSerializer extends StdSerializer<Instant> {

        private static final int LENGTH = 24;

        InstantSerializer() {
            super(Instant.class);
        }

        @Override
        public void serialize(Instant value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            char[] text = format(value);
            if (text == null) {
                gen.writeString(TIMESTAMP.format(value));
            } else {
                gen.writeString(text, 0, LENGTH);
            }
        }

        /** {@code yyyy-MM-ddTHH:mm:ss.SSSZ} in UTC, or null outside years 1..9999. */
        static char[] format(Instant value) {
            long epochSecond = value.getEpochSecond();
            long epochDay = Math.floorDiv(epochSecond, 86_400L);
            int secondOfDay = (int) Math.floorMod(epochSecond, 86_400L);
            // Days to a civil date (proleptic Gregorian), H. Hinnant's algorithm: eras of 400 years
            // starting on March 1st, so that the leap day is the last day of a year.
            long days = epochDay + 719_468L;
            long era = Math.floorDiv(days, 146_097L);
            long dayOfEra = days - era * 146_097L;
            long yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
            long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
            long monthIndex = (5 * dayOfYear + 2) / 153;
            int day = (int) (dayOfYear - (153 * monthIndex + 2) / 5 + 1);
            int month = (int) (monthIndex < 10 ? monthIndex + 3 : monthIndex - 9);
            long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
            if (year < 1 || year > 9_999) {
                return null;
            }
            char[] text = new char[LENGTH];
            digits(text, 0, (int) year, 4);
            text[4] = '-';
            digits(text, 5, month, 2);
            text[7] = '-';
            digits(text, 8, day, 2);
            text[10] = 'T';
            digits(text, 11, secondOfDay / 3_600, 2);
            text[13] = ':';
            digits(text, 14, secondOfDay / 60 % 60, 2);
            text[16] = ':';
            digits(text, 17, secondOfDay % 60, 2);
            text[19] = '.';
            digits(text, 20, value.getNano() / 1_000_000, 3);
            text[23] = 'Z';
            return text;
        }

        private static void digits(char[] text, int at, int value, int width) {
            for (int i = at + width - 1; i >= at; i--) {
                text[i] = (char) ('0' + value % 10);
                value /= 10;
            }
        }
    }
}

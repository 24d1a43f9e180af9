package io.companychat.common.error;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A rule that only the service can check (a taken email, an unknown recipient) failed for
 * one or more fields. Mapped to 422 with the API.md body.
 */
public class FieldValidationException extends RuntimeException {

    private final Map<String, List<String>> errors;

    public FieldValidationException(Map<String, List<String>> errors) {
        super("validation failed for " + errors.keySet(), null, false, false);
        this.errors = Map.copyOf(new LinkedHashMap<>(errors));
    }

    public static FieldValidationException of(String field, String message) {
        return new FieldValidationException(Map.of(field, List.of(message)));
    }

    public Map<String, List<String>> errors() {
        return errors;
    }
}

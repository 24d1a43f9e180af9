package io.companychat.common.error;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A rule that only the service can check (a taken email, an unknown recipient) failed for
 * one or more fields: 422 with the API.md body {@code {"errors": {...}}}.
 */
public class FieldValidationException extends ApiException {

    private final Map<String, List<String>> errors;

    public FieldValidationException(Map<String, List<String>> errors) {
        super(422, "validation failed for " + errors.keySet(), Map.of(), null);
        this.errors = Map.copyOf(new LinkedHashMap<>(errors));
    }

    public static FieldValidationException of(String field, String message) {
        return new FieldValidationException(Map.of(field, List.of(message)));
    }

    public Map<String, List<String>> errors() {
        return errors;
    }
}

package io.companychat.common.error;

import java.util.List;
import java.util.Map;

/** The body of a 422: {@code {"errors": {"<field>": ["<message>", ...]}}} (API.md, Conventions). */
public record ValidationErrors(Map<String, List<String>> errors) {
}

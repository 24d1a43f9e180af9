package io.companychat.common.error;

/** Java names are camelCase, the JSON of API.md is snake_case (see {@code io.companychat.common.json.ChatJsonCustomizer}). */
final class JsonNames {

    private JsonNames() {
    }

    static String snakeCase(String javaName) {
        StringBuilder out = new StringBuilder(javaName.length() + 4);
        for (int i = 0; i < javaName.length(); i++) {
            char c = javaName.charAt(i);
            if (Character.isUpperCase(c)) {
                if (i > 0) {
                    out.append('_');
                }
                out.append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}

package io.companychat.common.error;

/** The original app's validation messages, as API.md lists them. Usable in constraint annotations. */
public final class ValidationMessages {

    public static final String BLANK = "can't be blank";
    public static final String INVALID_FORMAT = "has invalid format";
    public static final String TAKEN = "has already been taken";
    public static final String DOES_NOT_EXIST = "does not exist";
    public static final String INVALID = "is invalid";
    /** Bean Validation interpolates {max} from {@code @Size}. */
    public static final String TOO_LONG = "should be at most {max} character(s)";

    private ValidationMessages() {
    }

    public static String tooLong(int max) {
        return "should be at most " + max + " character(s)";
    }
}

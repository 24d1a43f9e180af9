package io.companychat.user.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;

import io.vertx.ext.mail.mailencoder.EmailAddress;

/**
 * An address the mailer can send to, exactly as written. The original's {@code \S+@\S+\.\S+}
 * lets through strings such as {@code <b>x</b>@example.com} that the SMTP client refuses; a
 * user registered with one would never receive the password and could never register again.
 */
@Target({ ElementType.FIELD, ElementType.PARAMETER, ElementType.RECORD_COMPONENT })
@Retention(RetentionPolicy.RUNTIME)
@Constraint(validatedBy = MailAddress.Validator.class)
public @interface MailAddress {

    String message();

    Class<?>[] groups() default {};

    Class<? extends Payload>[] payload() default {};

    class Validator implements ConstraintValidator<MailAddress, String> {

        @Override
        public boolean isValid(String value, ConstraintValidatorContext context) {
            if (value == null) {
                return true;
            }
            try {
                return value.equals(new EmailAddress(value).getEmail());
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
    }
}

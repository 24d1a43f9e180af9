package io.companychat.common.error;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.ElementKind;
import jakarta.validation.Path;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;

import io.quarkus.logging.Log;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import io.vertx.pgclient.PgException;

/**
 * Turns every failure of a REST call into the bodies of API.md: 422 with field messages for
 * validation, {@code {"message": ...}} for everything else. Nothing here ever returns a stack
 * trace, and bad input never ends as a 500.
 */
public class ErrorMappers {

    static final int DATABASE_RETRY_AFTER_SECONDS = 2;
    static final String UNAUTHENTICATED = "missing, invalid, expired or revoked token";

    /** Overrides Quarkus's own mapper (for {@code ValidationException}) with the API.md body. */
    @ServerExceptionMapper
    public RestResponse<?> constraintViolation(ConstraintViolationException e) {
        boolean returnValue = e.getConstraintViolations().stream().anyMatch(v -> isReturnValue(v.getPropertyPath()));
        return returnValue ? unexpected(e) : validationFailed(e);
    }

    /** The one mapper of the services' own refusals ({@link ApiException} and its 422 member). */
    @ServerExceptionMapper
    public RestResponse<?> api(ApiException e) {
        if (e.status() >= 500) {
            Log.warnf("%s: %s", e.getMessage(), e.getCause() == null ? "" : e.getCause().toString());
        }
        Object body = e instanceof FieldValidationException invalid ? new ValidationErrors(invalid.errors())
                : new ErrorMessage(e.getMessage());
        RestResponse.ResponseBuilder<Object> builder = RestResponse.ResponseBuilder.create(e.status()).entity(body)
                .type(MediaType.APPLICATION_JSON_TYPE);
        e.headers().forEach(builder::header);
        return builder.build();
    }

    @ServerExceptionMapper
    public RestResponse<ErrorMessage> malformedJson(JsonProcessingException e) {
        return json(400, new ErrorMessage(describe(e)));
    }

    /** Named on its own so that it wins over quarkus-rest-jackson's built-in mapper for this type. */
    @ServerExceptionMapper
    public RestResponse<ErrorMessage> wrongType(MismatchedInputException e) {
        return malformedJson(e);
    }

    /** Missing, malformed, forged, expired or revoked token: 401 with a message and a Bearer challenge. */
    @ServerExceptionMapper({ AuthenticationFailedException.class, UnauthorizedException.class })
    public RestResponse<ErrorMessage> unauthenticated(RuntimeException e) {
        return RestResponse.ResponseBuilder.<ErrorMessage>create(401).entity(new ErrorMessage(UNAUTHENTICATED))
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .type(MediaType.APPLICATION_JSON_TYPE)
                .build();
    }

    @ServerExceptionMapper
    public RestResponse<ErrorMessage> forbidden(ForbiddenException e) {
        return json(403, new ErrorMessage("forbidden"));
    }

    @ServerExceptionMapper
    public RestResponse<ErrorMessage> webApplication(WebApplicationException e) {
        JsonProcessingException json = causeOfType(e, JsonProcessingException.class);
        if (json != null) {
            return malformedJson(json);
        }
        Response response = e.getResponse();
        int status = response.getStatus();
        if (status >= 500) {
            Log.errorf(e, "Request failed with %d", status);
        }
        RestResponse.ResponseBuilder<ErrorMessage> builder = RestResponse.ResponseBuilder
                .<ErrorMessage>create(status).entity(new ErrorMessage(reason(status)))
                .type(MediaType.APPLICATION_JSON_TYPE);
        response.getHeaders().forEach((name, values) -> {
            if (!HttpHeaders.CONTENT_TYPE.equalsIgnoreCase(name) && !HttpHeaders.CONTENT_LENGTH.equalsIgnoreCase(name)) {
                values.forEach(value -> builder.header(name, value));
            }
        });
        return builder.build();
    }

    @ServerExceptionMapper
    public RestResponse<?> unexpected(Throwable e) {
        if (isDatabaseUnreachable(e)) {
            return api(ApiException.unavailable("database unavailable", DATABASE_RETRY_AFTER_SECONDS, e));
        }
        Log.errorf(e, "Unexpected error");
        return json(500, new ErrorMessage("internal server error"));
    }

    private static RestResponse<ValidationErrors> validationFailed(ConstraintViolationException e) {
        Map<String, List<String>> errors = new LinkedHashMap<>();
        for (ConstraintViolation<?> violation : e.getConstraintViolations()) {
            errors.computeIfAbsent(fieldName(violation.getPropertyPath()), k -> new ArrayList<>())
                    .add(violation.getMessage());
        }
        errors.replaceAll((field, messages) -> messages.stream().distinct().sorted().collect(Collectors.toList()));
        return json(422, new ValidationErrors(errors));
    }

    private static boolean isReturnValue(Path path) {
        for (Path.Node node : path) {
            if (node.getKind() == ElementKind.RETURN_VALUE) {
                return true;
            }
        }
        return false;
    }

    /** The JSON name of the violated field: the last property or parameter of the path, in snake_case. */
    static String fieldName(Path path) {
        String name = null;
        for (Path.Node node : path) {
            if (node.getKind() == ElementKind.PROPERTY || node.getKind() == ElementKind.PARAMETER) {
                name = node.getName();
            }
        }
        return name == null ? "body" : JsonNames.snakeCase(name);
    }

    private static String describe(JsonProcessingException e) {
        if (causeOfType(e, StreamConstraintsException.class) != null) {
            return "request body is too deeply nested or too large";
        }
        if (causeOfType(e, StreamReadException.class) != null) {
            return "malformed JSON";
        }
        if (e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            String field = mapping.getPath().stream()
                    .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                    .collect(Collectors.joining("."));
            return "invalid value for " + field;
        }
        return "malformed JSON";
    }

    private static String reason(int status) {
        return switch (status) {
            case 400 -> "bad request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not found";
            case 405 -> "method not allowed";
            case 406 -> "not acceptable";
            case 409 -> "conflict";
            case 413 -> "request body too large";
            case 415 -> "unsupported media type, use application/json";
            case 429 -> "too many requests";
            case 503 -> "service unavailable";
            default -> {
                Response.StatusType type = Response.Status.fromStatusCode(status);
                yield type == null ? "error" : type.getReasonPhrase().toLowerCase();
            }
        };
    }

    /**
     * The database cannot answer now: unreachable, its connection lost, or PostgreSQL itself ending the connection
     * (SQLSTATE class 08, and 57P01..57P03: terminated by an administrator, crashed, still starting up).
     */
    private static boolean isDatabaseUnreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String name = t.getClass().getName();
            if (t instanceof PgException pg && pg.getSqlState() != null
                    && (pg.getSqlState().startsWith("08") || pg.getSqlState().matches("57P0[123]"))) {
                return true;
            }
            if (t instanceof ConnectException || t instanceof TimeoutException
                    || name.equals("io.vertx.core.net.impl.ConnectionBase$ClosedConnectionException")
                    || name.endsWith("ClosedConnectionException")
                    || name.equals("io.vertx.core.impl.NoStackTraceTimeoutException")) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static <T extends Throwable> T causeOfType(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    private static <T> RestResponse<T> json(int status, T body) {
        return RestResponse.ResponseBuilder.<T>create(status).entity(body).type(MediaType.APPLICATION_JSON_TYPE).build();
    }
}

package io.companychat.user.rest;

import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.companychat.common.error.ErrorMessage;
import io.companychat.user.api.InvalidQueryParameterException;

/** The errors of this service that common's mappers do not know, in the API.md shape. */
public class UserErrorMappers {

    @ServerExceptionMapper
    public RestResponse<ErrorMessage> invalidQueryParameter(InvalidQueryParameterException e) {
        return json(400, e.getMessage());
    }

    @ServerExceptionMapper
    public RestResponse<ErrorMessage> invalidPassword(InvalidPasswordException e) {
        return json(401, e.getMessage());
    }

    @ServerExceptionMapper
    public RestResponse<ErrorMessage> invalidCredentials(InvalidCredentialsException e) {
        return json(401, e.getMessage());
    }

    private static RestResponse<ErrorMessage> json(int status, String message) {
        return RestResponse.ResponseBuilder.<ErrorMessage>create(status)
                .entity(new ErrorMessage(message)).type(MediaType.APPLICATION_JSON_TYPE).build();
    }
}

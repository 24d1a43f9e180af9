package io.companychat.auth.rest;

import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.companychat.auth.InvalidCredentialsException;
import io.companychat.auth.TooManyFailedLoginsException;
import io.companychat.common.error.ErrorMessage;

/** The login failures of API.md; everything else is mapped by common's ErrorMappers. */
public class AuthExceptionMappers {

    @ServerExceptionMapper
    public RestResponse<ErrorMessage> invalidCredentials(InvalidCredentialsException e) {
        return RestResponse.ResponseBuilder.<ErrorMessage>create(401).entity(new ErrorMessage(InvalidCredentialsException.MESSAGE))
                .type(MediaType.APPLICATION_JSON_TYPE)
                .build();
    }

    @ServerExceptionMapper
    public RestResponse<ErrorMessage> tooManyFailedLogins(TooManyFailedLoginsException e) {
        return RestResponse.ResponseBuilder.<ErrorMessage>create(429).entity(new ErrorMessage(TooManyFailedLoginsException.MESSAGE))
                .header(HttpHeaders.RETRY_AFTER, e.retryAfterSeconds())
                .type(MediaType.APPLICATION_JSON_TYPE)
                .build();
    }
}

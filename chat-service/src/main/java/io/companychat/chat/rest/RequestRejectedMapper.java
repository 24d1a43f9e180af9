package io.companychat.chat.rest;

import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.companychat.chat.service.RequestRejectedException;
import io.companychat.common.error.ErrorMessage;

/** Answers a refused request with the API.md error body and its specific reason. */
public class RequestRejectedMapper {

    @ServerExceptionMapper
    public RestResponse<ErrorMessage> rejected(RequestRejectedException e) {
        return RestResponse.ResponseBuilder.<ErrorMessage>create(e.status())
                .entity(new ErrorMessage(e.getMessage()))
                .type(MediaType.APPLICATION_JSON_TYPE)
                .build();
    }
}

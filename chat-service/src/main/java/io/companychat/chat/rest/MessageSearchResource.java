package io.companychat.chat.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import io.companychat.chat.api.MessagePage;
import io.companychat.chat.service.MessageService;
import io.companychat.common.security.Caller;
import io.quarkus.security.Authenticated;
import io.smallrye.mutiny.Uni;

/** Search over the caller's conversations (API.md Part 2, "Search"). */
@Path("/api/messages")
@Authenticated
@Produces(MediaType.APPLICATION_JSON)
public class MessageSearchResource {

    static final int DEFAULT_LIMIT = 20;

    private final MessageService messages;
    private final Caller caller;

    public MessageSearchResource(MessageService messages, Caller caller) {
        this.messages = messages;
        this.caller = caller;
    }

    @GET
    @Path("/search")
    public Uni<MessagePage> search(@QueryParam("q") String q, @QueryParam("limit") String limit,
            @QueryParam("before") String before, @QueryParam("conversation_id") String conversationId) {
        return messages.search(caller.id(), q, RequestParameters.conversationFilter(conversationId),
                RequestParameters.before(before), RequestParameters.limit(limit, DEFAULT_LIMIT));
    }
}

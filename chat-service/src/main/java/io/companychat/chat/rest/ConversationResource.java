package io.companychat.chat.rest;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.RestResponse;

import io.companychat.chat.api.ConversationChange;
import io.companychat.chat.api.ConversationList;
import io.companychat.chat.api.ConversationView;
import io.companychat.chat.api.MessagePage;
import io.companychat.chat.api.MessageView;
import io.companychat.chat.api.NewConversation;
import io.companychat.chat.api.NewMember;
import io.companychat.chat.api.NewMessage;
import io.companychat.chat.api.ReadMark;
import io.companychat.chat.api.ReadMarkers;
import io.companychat.chat.service.ConversationService;
import io.companychat.chat.service.MessageService;
import io.companychat.chat.service.Outcome;
import io.companychat.chat.service.ReadService;
import io.companychat.common.security.Caller;
import io.quarkus.security.Authenticated;
import io.smallrye.mutiny.Uni;

/** Conversations (direct and groups), their members and their messages, for their members only (API.md). */
@Path("/api/conversations")
@Authenticated
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class ConversationResource {

    private final ConversationService conversations;
    private final MessageService messages;
    private final ReadService reads;
    private final Caller caller;

    public ConversationResource(ConversationService conversations, MessageService messages, ReadService reads,
            Caller caller) {
        this.conversations = conversations;
        this.messages = messages;
        this.reads = reads;
        this.caller = caller;
    }

    @POST
    public Uni<RestResponse<ConversationView>> start(NewConversation request) {
        return conversations.start(caller.id(), request).map(ConversationResource::createdOrOk);
    }

    @GET
    public Uni<ConversationList> list() {
        return conversations.list(caller.id());
    }

    @GET
    @Path("/{id}")
    public Uni<ConversationView> get(@PathParam("id") String id) {
        return conversations.get(caller.id(), RequestParameters.conversationId(id));
    }

    @PATCH
    @Path("/{id}")
    public Uni<ConversationView> rename(@PathParam("id") String id, ConversationChange change) {
        return conversations.rename(caller.id(), RequestParameters.conversationId(id), change);
    }

    @POST
    @Path("/{id}/members")
    public Uni<ConversationView> addMember(@PathParam("id") String id, NewMember member) {
        return conversations.addMember(caller.id(), RequestParameters.conversationId(id), member);
    }

    @DELETE
    @Path("/{id}/members/{userId}")
    public Uni<RestResponse<Void>> removeMember(@PathParam("id") String id, @PathParam("userId") String userId) {
        return conversations.removeMember(caller.id(), RequestParameters.conversationId(id), RequestParameters.userId(userId))
                .map(done -> RestResponse.noContent());
    }

    @GET
    @Path("/{id}/messages")
    public Uni<MessagePage> history(@PathParam("id") String id, @QueryParam("limit") String limit,
            @QueryParam("before") String before) {
        return messages.history(caller.id(), RequestParameters.conversationId(id), RequestParameters.before(before),
                RequestParameters.limit(limit));
    }

    @POST
    @Path("/{id}/messages")
    public Uni<RestResponse<MessageView>> post(@PathParam("id") String id, NewMessage request) {
        return messages.post(caller.id(), RequestParameters.conversationId(id), request)
                .map(ConversationResource::createdOrOk);
    }

    @PATCH
    @Path("/{id}/messages/{messageId}")
    public Uni<MessageView> edit(@PathParam("id") String id, @PathParam("messageId") String messageId, NewMessage request) {
        return messages.edit(caller.id(), RequestParameters.conversationId(id), RequestParameters.messageId(messageId),
                request);
    }

    @DELETE
    @Path("/{id}/messages/{messageId}")
    public Uni<RestResponse<Void>> delete(@PathParam("id") String id, @PathParam("messageId") String messageId) {
        return messages.delete(caller.id(), RequestParameters.conversationId(id), RequestParameters.messageId(messageId))
                .map(done -> RestResponse.noContent());
    }

    @POST
    @Path("/{id}/read")
    public Uni<RestResponse<Void>> markRead(@PathParam("id") String id, ReadMark mark) {
        return reads.markRead(caller.id(), RequestParameters.conversationId(id), mark == null ? null : mark.messageId(), null)
                .map(done -> RestResponse.noContent());
    }

    @GET
    @Path("/{id}/reads")
    public Uni<ReadMarkers> reads(@PathParam("id") String id) {
        return reads.markers(caller.id(), RequestParameters.conversationId(id));
    }

    private static <T> RestResponse<T> createdOrOk(Outcome<T> outcome) {
        return outcome.created() ? RestResponse.status(RestResponse.Status.CREATED, outcome.value())
                : RestResponse.ok(outcome.value());
    }
}

package io.companychat.common.security;

import java.util.List;

import io.smallrye.mutiny.Uni;

/** Every revocation that has not expired yet, loaded whenever the notification stream (re)starts. */
public interface RevocationSnapshot {

    Uni<List<Revocation>> load();
}

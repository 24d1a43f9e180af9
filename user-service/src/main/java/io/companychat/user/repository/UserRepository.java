package io.companychat.user.repository;

import java.time.Instant;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.user.User;
import io.quarkus.hibernate.reactive.panache.PanacheRepository;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Page;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;

@ApplicationScoped
@WithSession
public class UserRepository implements PanacheRepository<User> {

    /** The unique index that makes emails unique whatever their case (V1 migration). */
    public static final String EMAIL_UNIQUE_INDEX = "users_email_lower_key";

    public Uni<User> findByEmail(String email) {
        return find("lower(email) = lower(?1)", email).firstResult();
    }

    public Uni<Boolean> emailTaken(String email) {
        return count("lower(email) = lower(?1)", email).map(count -> count > 0);
    }

    /** Up to {@code size} users with an id above {@code afterId}, in id order. */
    public Uni<List<User>> listAfter(long afterId, int size) {
        return find("id > ?1", Sort.ascending("id"), afterId).page(Page.ofSize(size)).list();
    }

    public Uni<Integer> updatePasswordHash(long id, String passwordHash, Instant now) {
        return update("passwordHash = ?1, updatedAt = ?2 where id = ?3", passwordHash, now, id);
    }
}

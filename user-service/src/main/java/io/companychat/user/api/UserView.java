package io.companychat.user.api;

import io.companychat.user.User;

/** The user JSON of API.md: never a password or a hash. */
public record UserView(long id, String name, String subname, String email, String job) {

    public static UserView of(User user) {
        return new UserView(user.id, user.name, user.subname, user.email, user.job);
    }
}

package io.companychat.auth.rest;

import io.companychat.auth.client.User;

/** {@code {"data": {"user": ..., "token": ..., "expire": <exp, unix seconds>}}}, the original's login answer. */
public record LoginResponse(Data data) {

    public record Data(User user, String token, long expire) {

        @Override
        public String toString() {
            return "Data[user=" + user + ", expire=" + expire + "]";
        }
    }
}

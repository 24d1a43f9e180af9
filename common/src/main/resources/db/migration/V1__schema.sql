-- The whole data model of API.md, in one schema shared by every service.
-- Each table has one owning service; the others reach its data over REST only.

-- user-service
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          VARCHAR(255) NOT NULL,
    subname       VARCHAR(255) NOT NULL,
    email         VARCHAR(255) NOT NULL,
    job           VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    inserted_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- user-service: the welcome-mail outbox, written in the registration's transaction.
-- Bodies hold the generated password until the mail is sent, then they are cleared.
CREATE TABLE mail_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient       VARCHAR(255) NOT NULL,
    subject         VARCHAR(255) NOT NULL,
    text_body       TEXT,
    html_body       TEXT,
    status          VARCHAR(16)  NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts        INTEGER      NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ  NOT NULL DEFAULT now(),
    last_error      VARCHAR(1000),
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    sent_at         TIMESTAMPTZ
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE status = 'PENDING';

-- auth-service: revoked token ids, kept until the token would have expired anyway.
CREATE TABLE revoked_tokens (
    jti        VARCHAR(64) PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

-- auth-service: failed logins, counted per email and per client address over a sliding window.
CREATE TABLE login_failures (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          VARCHAR(255) NOT NULL,
    client_address VARCHAR(64)  NOT NULL,
    failed_at      TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (lower(email), failed_at);
CREATE INDEX login_failures_address_idx ON login_failures (client_address, failed_at);

-- chat-service
CREATE TABLE conversations (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sender_id        BIGINT      NOT NULL REFERENCES users (id),
    recipient_id     BIGINT      NOT NULL REFERENCES users (id),
    status           VARCHAR(32) NOT NULL DEFAULT 'active',
    inserted_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_activity_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT conversations_distinct_participants CHECK (sender_id <> recipient_id)
);
-- One conversation per pair of users, whichever of them started it.
CREATE UNIQUE INDEX conversations_pair_key
    ON conversations (LEAST(sender_id, recipient_id), GREATEST(sender_id, recipient_id));
CREATE INDEX conversations_sender_activity_idx ON conversations (sender_id, last_activity_at DESC);
CREATE INDEX conversations_recipient_activity_idx ON conversations (recipient_id, last_activity_at DESC);

CREATE TABLE messages (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT        NOT NULL REFERENCES conversations (id),
    sender_id       BIGINT        NOT NULL REFERENCES users (id),
    content         VARCHAR(4000) NOT NULL,
    date            TIMESTAMPTZ   NOT NULL,
    client_id       VARCHAR(255),
    inserted_at     TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ   NOT NULL DEFAULT now()
);
-- Newest-first history pages of one conversation: (conversation_id, id DESC), keyset on id.
CREATE INDEX messages_history_idx ON messages (conversation_id, id DESC);
-- Client idempotency keys are unique per sender.
CREATE UNIQUE INDEX messages_sender_client_id_key ON messages (sender_id, client_id) WHERE client_id IS NOT NULL;

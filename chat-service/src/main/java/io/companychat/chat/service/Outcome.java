package io.companychat.chat.service;

/** What a create-or-return call produced: a new resource (201) or the one that was already there (200). */
public record Outcome<T>(T value, boolean created) {
}

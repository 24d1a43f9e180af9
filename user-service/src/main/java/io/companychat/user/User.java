package io.companychat.user;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A registered user (table {@code users}). Only a bcrypt hash of the password is ever stored. */
@Entity
@Table(name = "users")
public class User {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false, length = 255)
    public String name;

    @Column(nullable = false, length = 255)
    public String subname;

    @Column(nullable = false, length = 255)
    public String email;

    @Column(nullable = false, length = 255)
    public String job;

    @Column(name = "password_hash", nullable = false, length = 255)
    public String passwordHash;

    @Column(name = "inserted_at", nullable = false)
    public Instant insertedAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;
}

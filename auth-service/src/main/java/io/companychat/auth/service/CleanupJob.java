package io.companychat.auth.service;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;

/**
 * Deletes what no longer matters: revocations of long-expired tokens and failed logins outside the window.
 * Every replica runs it; the deletes are idempotent, so they need no coordination.
 */
@ApplicationScoped
public class CleanupJob {

    private final RevocationService revocations;
    private final LoginLimitService limits;

    public CleanupJob(RevocationService revocations, LoginLimitService limits) {
        this.revocations = revocations;
        this.limits = limits;
    }

    @Scheduled(identity = "auth-cleanup", every = "${auth.cleanup.interval}", delayed = "${auth.cleanup.interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> deleteStaleRows() {
        return revocations.deleteExpired()
                .flatMap(revoked -> limits.deleteOutsideWindow().invoke(failures -> {
                    if (revoked + failures > 0) {
                        Log.debugf("Cleanup: %d expired revocation(s), %d old failed login(s) deleted", revoked, failures);
                    }
                }))
                .onFailure().invoke(e -> Log.warnf("Cleanup failed, will retry: %s", e.toString()))
                .onFailure().recoverWithNull()
                .replaceWithVoid();
    }
}

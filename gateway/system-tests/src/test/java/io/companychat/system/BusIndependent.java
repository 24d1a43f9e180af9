package io.companychat.system;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A system test whose outcome does not depend on the chat-service replicas' bus runs once, not in both passes: in
 * the NATS pass ({@code on-nats}) where a nats-server can be had, else in the PostgreSQL pass. The passes run side by
 * side and the PostgreSQL one, which runs every other test, is the longer: these even them out. A machine without
 * nats-server (the NATS pass is skipped there) still runs them.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(BusIndependent.OnePass.class)
@interface BusIndependent {

    final class OnePass implements ExecutionCondition {

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            boolean natsPass = "nats".equals(RunningSystem.configuredBus());
            boolean natsCanRun = NatsServer.executable().isPresent();
            if (natsPass == natsCanRun) {
                return ConditionEvaluationResult.enabled("bus-independent: runs in this pass");
            }
            return ConditionEvaluationResult.disabled(natsPass
                    ? "bus-independent: no nats-server here, so it runs in the PostgreSQL pass"
                    : "bus-independent: runs in the NATS pass (system-tests/on-nats) beside this one");
        }
    }
}

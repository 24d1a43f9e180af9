package io.companychat.system;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts the {@link RunningSystem} once for all system tests of the run, and stops it at the end. A test class
 * gets it in its {@code static RunningSystem} field (or as a parameter of a test or lifecycle method).
 */
public class SystemExtension implements BeforeAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SystemExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) throws IllegalAccessException {
        RunningSystem system = system(context);
        for (Class<?> type = context.getRequiredTestClass(); type != null; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                if (field.getType() == RunningSystem.class && Modifier.isStatic(field.getModifiers())) {
                    field.setAccessible(true);
                    field.set(null, system);
                }
            }
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == RunningSystem.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return system(context);
    }

    private static RunningSystem system(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent("system", key -> new Closing(RunningSystem.start()), Closing.class).system();
    }

    private record Closing(RunningSystem system) implements ExtensionContext.Store.CloseableResource {
        @Override
        public void close() {
            system.close();
        }
    }
}

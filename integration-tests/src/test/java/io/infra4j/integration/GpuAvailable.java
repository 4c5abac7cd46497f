package io.infra4j.integration;

import io.infra4j.ffm.KernelLibrary;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Runs GPU tests only where CUDA and libinfra4j_cuda work; elsewhere they show as skipped, with why. */
public final class GpuAvailable implements ExecutionCondition {
    private static final java.util.concurrent.atomic.AtomicBoolean SAID = new java.util.concurrent.atomic.AtomicBoolean();

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (KernelLibrary.isAvailable()) {
            return ConditionEvaluationResult.enabled("GPU available");
        }
        String why = "skipped, no GPU: " + KernelLibrary.unavailableReason();
        if (SAID.compareAndSet(false, true)) {
            System.err.println("[infra4j] GPU tests " + why);
        }
        return ConditionEvaluationResult.disabled(why);
    }
}

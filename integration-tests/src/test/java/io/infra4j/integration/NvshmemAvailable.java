package io.infra4j.integration;

import io.infra4j.ffm.nvshmem.Nvshmem;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Runs NVSHMEM tests only where libnvshmem_host loads; elsewhere they show as skipped, with why (next to {@link GpuAvailable}). */
public final class NvshmemAvailable implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (Nvshmem.isAvailable()) {
            return ConditionEvaluationResult.enabled("NVSHMEM " + Nvshmem.versionString() + " available");
        }
        return ConditionEvaluationResult.disabled("skipped, no NVSHMEM: " + Nvshmem.unavailableReason());
    }
}

package io.infra4j.integration;

import io.infra4j.ffm.nccl.Nccl;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Runs NCCL tests only where libnccl loads; elsewhere they show as skipped, with why (next to {@link GpuAvailable}). */
public final class NcclAvailable implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (Nccl.isAvailable()) {
            return ConditionEvaluationResult.enabled("NCCL " + Nccl.versionString() + " available");
        }
        return ConditionEvaluationResult.disabled("skipped, no NCCL: " + Nccl.unavailableReason());
    }
}

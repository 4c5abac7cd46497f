package io.infra4j.integration;

import io.infra4j.deepgemm.internal.CublasLtFp8Gemm;
import io.infra4j.ffm.cublas.CublasLt;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs cuBLASLt tests only where its block-scaled FP8 GEMM can run (libcublasLt 12.9 or newer, a
 * Hopper GPU); elsewhere they show as skipped, with why (next to {@link GpuAvailable}).
 */
public final class CublasLtAvailable implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String why = CublasLtFp8Gemm.unavailableReason();
        if (why.isEmpty()) {
            return ConditionEvaluationResult.enabled("cuBLASLt " + CublasLt.versionString() + " available");
        }
        return ConditionEvaluationResult.disabled("skipped, no cuBLASLt FP8 block scaling: " + why);
    }
}

package io.infra4j.flashmla;

import io.infra4j.memory.Tensor;

/**
 * What a decode gives: {@code out} [batch, seqlen_q, heads_q, 512] BF16 and {@code lse}
 * [batch, heads_q, seqlen_q] F32, the natural log of each row's softmax denominator ({@code +inf}
 * for a row that sees no key). Closing it closes both (idempotent, so a scope may close them too).
 */
public record MlaResult(Tensor out, Tensor lse) implements AutoCloseable {
    @Override
    public void close() {
        try {
            out.close();
        } finally {
            lse.close();
        }
    }
}

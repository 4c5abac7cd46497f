package io.infra4j.smallpond.plan;

import io.infra4j.smallpond.arrow.ArrowBatch;
import java.util.function.Consumer;

/**
 * Java code run on every Arrow batch of a partition: it reads {@code in} and hands any number of output
 * batches (of the declared schema) to {@code out}, which takes ownership of them. {@code in} is closed after
 * the call returns, so nothing may keep it.
 */
@FunctionalInterface
public interface BatchFunction {
    void apply(ArrowBatch in, Consumer<ArrowBatch> out) throws Exception;
}

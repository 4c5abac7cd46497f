package io.infra4j.integration;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/** A test class that needs a GPU with infra4j's kernels: tagged "gpu", skipped with the reason without one. */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag(GpuSuite.TAG)
@ExtendWith(GpuAvailable.class)
public @interface GpuTest {}

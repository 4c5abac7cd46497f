package io.infra4j.cli;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.CastMode;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The memory layer end to end: a float32 tensor of random normals (times 100, so that FP8's range
 * matters) goes through BF16 and FP8 round trips and a strided transpose copy on the chosen device;
 * errors are measured on the host, GPU results are held bit-for-bit to the CPU path, and each op's
 * bytes and GB/s are reported.
 */
final class MemoryStage implements DemoStage {
    static final double SCALE = 100;

    /**
     * One round trip F32 -> narrow -> F32. Round to nearest keeps each normal value within
     * 2^-(m+1) of itself (m mantissa bits), so the relative L2 error stays under that too.
     */
    private record CastCase(DType narrow, CastMode mode, double limit) {
        String shortName() {
            return narrow.name().toLowerCase(Locale.ROOT);
        }
    }

    private static final List<CastCase> CASTS = List.of(
            new CastCase(DType.BF16, CastMode.STANDARD, 0x1p-8),
            new CastCase(DType.F8_E4M3, CastMode.SATURATE, 0x1p-4),
            new CastCase(DType.F8_E5M2, CastMode.STANDARD, 0x1p-3));

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public String description() {
        return "F32 tensor of random normals x" + (int) SCALE
                + ": BF16/FP8 cast round trips, a strided transpose copy, GB/s of each op";
    }

    /** What one run collects; the sub-steps below fill it in. */
    private static final class Run {
        final DemoContext ctx;
        final boolean gpu;
        final CudaStream stream;
        final TensorScope scope;
        final OpTimer timer;
        final List<Map<String, Object>> casts = new ArrayList<>();
        final List<Map<String, Object>> ops = new ArrayList<>();
        final List<String> failures = new ArrayList<>();
        Tensor host;
        Tensor src;

        Run(DemoContext ctx, CudaStream stream, TensorScope scope, OpTimer timer) {
            this.ctx = ctx;
            this.gpu = ctx.device().isCuda();
            this.stream = stream == null ? CudaStream.legacyDefault() : stream;
            this.scope = scope;
            this.timer = timer;
        }

        void measure(String op, long bytes, Runnable work) {
            double s = timer.seconds(work);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("op", op);
            row.put("bytes", bytes);
            row.put("ms", s * 1e3);
            row.put("gb_per_s", s > 0 ? bytes / s / 1e9 : Double.NaN);
            ops.add(row);
        }
    }

    @Override
    public StageResult run(DemoContext ctx) {
        Device dev = ctx.device();
        boolean gpu = dev.isCuda();
        long n = ctx.size();
        long rows = Math.max(1, (long) Math.sqrt((double) n));
        long cols = n / rows;
        int steps = 1 + (gpu ? 1 : 0) + 2 * CASTS.size() + 2;

        Map<String, Object> figures = new LinkedHashMap<>();
        List<String> failures;
        // Closed in reverse: the timer's events, then the tensors (freed in order on the stream), then the stream.
        try (CudaStream stream = gpu ? CudaStream.create(Cuda.device(dev.index())) : null;
             TensorScope scope = gpu ? TensorScope.open(stream) : TensorScope.open();
             OpTimer timer = gpu ? OpTimer.gpu(stream) : OpTimer.cpu();
             Progress.Task task = ctx.progress().start("demo " + name(), steps)) {
            Run run = new Run(ctx, stream, scope, timer);
            task.step("random fill", () -> fill(run, n));
            if (gpu) {
                task.step("copy to " + dev, () -> upload(run));
            } else {
                run.src = run.host;
            }
            for (CastCase c : CASTS) {
                castRoundTrip(run, c, task);
            }
            Map<String, Object> strided = stridedCopy(run, rows, cols, task);

            figures.put("elements", n);
            figures.put("f32_bytes", 4 * n);
            figures.put("input", "normal(0, 1) x " + (int) SCALE + ", seed " + ctx.options().seed());
            figures.put("casts", run.casts);
            figures.put("strided_copy", strided);
            figures.put("ops", run.ops);
            figures.put("timing", timer.method());
            failures = run.failures;
        }
        return StageResult.of(failures, figures);
    }

    /** A host tensor of n normals x SCALE; pinned on a GPU run so that the upload is a true DMA. */
    private static void fill(Run run, long n) {
        Tensor t = run.gpu ? run.scope.pinned(DType.F32, n) : run.scope.empty(DType.F32, Device.CPU, n);
        MemorySegment seg = t.segment();
        Random r = run.ctx.random();
        float[] chunk = new float[(int) Math.min(n, 1 << 20)];
        for (long off = 0; off < n; off += chunk.length) {
            int len = (int) Math.min(chunk.length, n - off);
            for (int i = 0; i < len; i++) {
                chunk[i] = (float) (r.nextGaussian() * SCALE);
            }
            MemorySegment.copy(chunk, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, off * 4, len);
        }
        run.host = t;
    }

    private static void upload(Run run) {
        Tensor d = run.scope.empty(DType.F32, run.ctx.device(), run.host.numel());
        run.measure("copy host->" + run.ctx.device(), run.host.byteSize(), () -> TensorOps.copy(run.host, d, run.stream));
        run.src = d;
    }

    private static void castRoundTrip(Run run, CastCase c, Progress.Task task) {
        long n = run.src.numel();
        Device dev = run.src.device();
        String name = c.shortName();
        try (Tensor narrow = run.scope.empty(c.narrow(), dev, n);
             Tensor back = run.scope.empty(DType.F32, dev, n)) {
            long bytes = n * (4 + c.narrow().byteSize());
            task.step("cast f32->" + name + "->f32", () -> {
                run.measure("cast f32->" + name, bytes, () -> TensorOps.cast(run.src, narrow, c.mode(), run.stream));
                run.measure("cast " + name + "->f32", bytes,
                        () -> TensorOps.cast(narrow, back, CastMode.STANDARD, run.stream));
            });
            task.step("check " + name, () -> checkRoundTrip(run, c, narrow, back));
        }
    }

    private static void checkRoundTrip(Run run, CastCase c, Tensor narrow, Tensor back) {
        String trip = "f32->" + c.shortName() + "->f32";
        try (TensorScope tmp = TensorScope.open(run.gpu ? run.scope.stream() : CudaStream.legacyDefault())) {
            // Errors are measured on the host: copy GPU results back (pageable memory: the copy waits).
            Tensor backHost = run.gpu ? TensorOps.to(back, Device.CPU, tmp) : back;
            HostChecks.RoundTripError e = HostChecks.roundTrip(run.host.segment(), backHost.segment(), back.numel(),
                    c.narrow().maxFinite());
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("round_trip", trip);
            row.put("mode", c.mode().name().toLowerCase(Locale.ROOT));
            row.put("rel_l2_error", e.relL2());
            row.put("limit", c.limit());
            row.put("max_abs_error", e.maxAbs());
            row.put("beyond_range", e.clipped());
            if (e.relL2() > c.limit()) {
                run.failures.add(trip + ": relative L2 error " + e.relL2() + " > " + c.limit());
            }
            if (e.nonFinite() > 0) {
                run.failures.add(trip + ": " + e.nonFinite() + " non-finite results from finite inputs");
            }
            if (run.gpu) {
                long bad = gpuVsCpu(run, c, narrow, backHost, tmp);
                row.put("gpu_cpu_mismatches", bad);
                if (bad != 0) {
                    run.failures.add(trip + ": " + bad + " elements differ between the GPU and the CPU path");
                }
            }
            run.casts.add(row);
        }
    }

    /** The same casts on the CPU path; GPU and CPU must agree to the bit, narrow values and round trip alike. */
    private static long gpuVsCpu(Run run, CastCase c, Tensor narrow, Tensor backHost, TensorScope tmp) {
        long n = narrow.numel();
        Tensor narrowHost = TensorOps.to(narrow, Device.CPU, tmp);
        Tensor cpuNarrow = tmp.empty(c.narrow(), Device.CPU, n);
        Tensor cpuBack = tmp.empty(DType.F32, Device.CPU, n);
        TensorOps.cast(run.host, cpuNarrow, c.mode(), CudaStream.legacyDefault());
        TensorOps.cast(cpuNarrow, cpuBack, CastMode.STANDARD, CudaStream.legacyDefault());
        return HostChecks.bitMismatches(narrowHost.segment(), cpuNarrow.segment(), c.narrow().byteSize())
                + HostChecks.bitMismatches(backHost.segment(), cpuBack.segment(), 4);
    }

    /** Transposes a [rows, cols] view of the source into a contiguous [cols, rows] tensor and checks it on the host. */
    private static Map<String, Object> stridedCopy(Run run, long rows, long cols, Progress.Task task) {
        Device dev = run.src.device();
        try (Tensor flat = run.src.slice(0, 0, rows * cols);
             Tensor matrix = flat.view(rows, cols);
             Tensor transposed = matrix.transpose(0, 1);
             Tensor dst = run.scope.empty(DType.F32, dev, cols, rows)) {
            long bytes = 2L * 4 * rows * cols;
            task.step("strided copy (transpose)",
                    () -> run.measure("strided copy (transpose)", bytes, () -> TensorOps.copy(transposed, dst, run.stream)));
            long bad = task.step("check transpose", () -> {
                try (TensorScope tmp = TensorScope.open(run.gpu ? run.scope.stream() : CudaStream.legacyDefault())) {
                    Tensor dstHost = dst;
                    if (run.gpu) {
                        Tensor pinned = tmp.pinned(DType.F32, cols, rows);
                        run.measure("copy " + dev + "->host", 4 * rows * cols, () -> TensorOps.copy(dst, pinned, run.stream));
                        run.stream.synchronize(); // a copy into pinned memory does not wait by itself
                        dstHost = pinned;
                    }
                    return HostChecks.transposeMismatches(run.host.segment(), rows, cols, dstHost.segment());
                }
            });
            if (bad != 0) {
                run.failures.add("strided copy: " + bad + " of " + rows * cols + " elements are not the transpose");
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("view", "[" + rows + ", " + cols + "] transposed: shape " + Arrays.toString(transposed.shape())
                    + ", strides " + Arrays.toString(transposed.strides()));
            out.put("elements", rows * cols);
            out.put("mismatches", bad);
            return out;
        }
    }
}

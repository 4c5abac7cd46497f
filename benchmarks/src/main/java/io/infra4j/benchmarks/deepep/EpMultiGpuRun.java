package io.infra4j.benchmarks.deepep;

import io.infra4j.benchmarks.gpu.GpuBench;
import io.infra4j.benchmarks.gpu.GpuTiming;
import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import io.infra4j.deepep.EpBuffer;
import io.infra4j.deepep.EpReference;
import io.infra4j.deepep.ExpertPlacement;
import io.infra4j.deepep.IntranodeEp;
import io.infra4j.deepep.LowLatencyEp;
import io.infra4j.deepep.RankTokens;
import io.infra4j.deepep.Routing;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.nccl.NcclComm;
import io.infra4j.ffm.nccl.NcclDataType;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The multi-GPU issue's second run: expert-parallel dispatch and combine over every GPU of the machine,
 * one rank per GPU with peer access ({@link EpBuffer#onDevices}), DeepEP's shape (4096 tokens per rank,
 * hidden 7168, top-8 of 256 experts), BF16 and FP8 rows.
 *
 * <ol>
 *   <li>Exactness: each rank's received rows (BF16 against {@link EpReference}; FP8 values and scales
 *       against the rows of the tokens they came from), and the combined tokens (BF16).
 *   <li>Bandwidth: the whole dispatch call (layouts, the one read of the counts, the pushes) and the
 *       combine, against an NCCL all-to-all moving the same bytes between the same ranks (grouped
 *       {@code ncclSend}/{@code ncclRecv} through infra4j's bindings, the rows each rank sends to each
 *       rank), timed the same way in the same run: "vs NCCL" is NCCL's time over ours (>= 0.9 is the
 *       target).
 *   <li>Low-latency mode: dispatch and combine of 128 tokens per rank into reserved buffers.
 * </ol>
 *
 * Times are CUDA events on rank 0's stream, which waits for every rank before its end event.
 */
public final class EpMultiGpuRun {
    static final int TOKENS = 4096;
    static final int LL_TOKENS = 128;
    static final int HIDDEN = EpBenchmarks.HIDDEN;
    static final int EXPERTS = EpBenchmarks.EXPERTS;
    static final int TOP_K = EpBenchmarks.TOP_K;

    private EpMultiGpuRun() {}

    /** Every rank's inputs on the host: BF16-exact rows and routing. */
    record Host(List<float[]> rows, List<Routing> routings) {
        static Host random(int world, int tokens, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            List<float[]> rows = new ArrayList<>();
            List<Routing> routings = new ArrayList<>();
            for (int s = 0; s < world; s++) {
                long[] ids = new long[tokens * TOP_K];
                float[] w = new float[tokens * TOP_K];
                for (int i = 0; i < tokens; i++) {
                    int[] chosen = r.ints(0, EXPERTS).distinct().limit(TOP_K).toArray();
                    for (int j = 0; j < TOP_K; j++) {
                        ids[i * TOP_K + j] = chosen[j];
                        w[i * TOP_K + j] = (float) r.nextDouble();
                    }
                }
                float[] x = new float[tokens * HIDDEN];
                for (int i = 0; i < x.length; i++) {
                    x[i] = Float.intBitsToFloat(Float.floatToRawIntBits((float) r.nextGaussian()) & 0xFFFF0000); // BF16-exact
                }
                rows.add(x);
                routings.add(new Routing(tokens, TOP_K, ids, w));
            }
            return new Host(rows, routings);
        }

        List<RankTokens> reference() {
            List<RankTokens> out = new ArrayList<>();
            for (int s = 0; s < rows.size(); s++) {
                out.add(new RankTokens(rows.get(s), HIDDEN, routings.get(s)));
            }
            return out;
        }
    }

    /** Rank s's input on its GPU: BF16 rows, or their high bytes as e4m3 values with scales naming (rank, token, group). */
    static IntranodeEp.RankInput onGpu(Host h, int s, boolean fp8, TensorScope scope) {
        Device dev = Device.cuda(scope.stream().device());
        Routing rt = h.routings().get(s);
        int t = rt.numTokens();
        Tensor ids = scope.empty(DType.I64, Device.CPU, t, TOP_K);
        for (int i = 0; i < t * TOP_K; i++) {
            ids.setBits(rt.expertIds()[i], i / TOP_K, i % TOP_K);
        }
        Tensor w = scope.empty(DType.F32, Device.CPU, t, TOP_K);
        w.copyFromFloats(rt.weights());
        Tensor gIds = TensorOps.to(ids, dev, scope);
        Tensor gW = TensorOps.to(w, dev, scope);
        float[] rows = h.rows().get(s);
        if (!fp8) {
            Tensor x = scope.empty(DType.BF16, Device.CPU, t, HIDDEN);
            x.copyFromFloats(rows);
            return IntranodeEp.RankInput.bf16(TensorOps.to(x, dev, scope), gIds, gW);
        }
        Tensor q = scope.empty(DType.F8_E4M3, Device.CPU, t, HIDDEN);
        var seg = q.segment();
        for (int i = 0; i < rows.length; i++) {
            seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (Float.floatToRawIntBits(rows[i]) >>> 24));
        }
        Tensor sc = scope.empty(DType.F32, Device.CPU, t, HIDDEN / 128);
        float[] scales = new float[t * (HIDDEN / 128)];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = scaleOf(s, i / (HIDDEN / 128), i % (HIDDEN / 128));
        }
        sc.copyFromFloats(scales);
        return new IntranodeEp.RankInput(TensorOps.to(q, dev, scope), TensorOps.to(sc, dev, scope), gIds, gW);
    }

    static float scaleOf(int rank, int token, int group) {
        return rank * 100000 + token + group / 64f;
    }

    static float[] host(Tensor t, CudaStream stream) {
        try (TensorScope s = TensorScope.open(stream)) {
            Tensor h = s.empty(t.dtype(), Device.CPU, t.shape());
            TensorOps.copy(t, h, stream);
            return h.toFloatArray();
        }
    }

    static byte[] hostBytes(Tensor t, CudaStream stream) {
        try (TensorScope s = TensorScope.open(stream)) {
            Tensor h = s.empty(t.dtype(), Device.CPU, t.shape());
            TensorOps.copy(t, h, stream);
            return h.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    static int[] hostInts(Tensor t, CudaStream stream) {
        try (TensorScope s = TensorScope.open(stream)) {
            Tensor h = s.empty(t.dtype(), Device.CPU, t.shape());
            TensorOps.copy(t, h, stream);
            return h.segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT);
        }
    }

    /** Checks every rank's received rows exactly; returns a one-line verdict, or throws with the first difference. */
    static String checkDispatch(IntranodeEp.Dispatched d, EpReference.Dispatch ref, boolean fp8, List<CudaStream> streams) {
        long rows = 0;
        for (int r = 0; r < streams.size(); r++) {
            EpReference.Received want = ref.received().get(r);
            IntranodeEp.Received got = d.received().get(r);
            if (want.numRows() != got.numRows()) {
                throw new IllegalStateException("rank " + r + ": " + got.numRows() + " rows received, the reference " + want.numRows());
            }
            int[] src = hostInts(got.srcIdx(), streams.get(r));
            if (!Arrays.equals(src, want.sourceToken())) {
                throw new IllegalStateException("rank " + r + ": source tokens differ from the reference");
            }
            if (!fp8) {
                if (!Arrays.equals(host(got.x(), streams.get(r)), want.rows())) {
                    throw new IllegalStateException("rank " + r + ": BF16 rows differ from the reference");
                }
            } else {
                byte[] values = hostBytes(got.x(), streams.get(r));
                float[] wantRows = want.rows();
                for (int i = 0; i < values.length; i++) {
                    if (values[i] != (byte) (Float.floatToRawIntBits(wantRows[i]) >>> 24)) {
                        throw new IllegalStateException("rank " + r + ": e4m3 value " + i + " differs from its token's");
                    }
                }
                float[] scales = host(got.scales(), streams.get(r));
                int groups = HIDDEN / 128;
                int[] begin = got.rankBegin();
                for (int row = 0, from = 0; row < got.numRows(); row++) {
                    while (begin[from + 1] <= row) {
                        from++;
                    }
                    for (int g = 0; g < groups; g++) {
                        if (scales[row * groups + g] != scaleOf(from, src[row], g)) {
                            throw new IllegalStateException("rank " + r + " row " + row + ": scale " + g + " is not its token's");
                        }
                    }
                }
            }
            rows += got.numRows();
        }
        return "exact: " + rows + " rows on " + streams.size() + " ranks";
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        Cuda.requireAvailable();
        List<CudaDevice> gpus = Cuda.devices();
        int world = gpus.size();
        if (world < 2) {
            System.out.println("EpMultiGpuRun: skipped: " + world + " GPU here, the run needs 2 or more");
            return;
        }
        ExpertPlacement p = new ExpertPlacement(EXPERTS, world);
        List<CudaStream> streams = new ArrayList<>();
        for (CudaDevice g : gpus) {
            streams.add(CudaStream.create(g));
        }
        List<NcclComm> comms = NcclComm.initAll(gpus);
        ResultTable table = new ResultTable("Normal mode over " + world + " GPUs (" + gpus.get(0).name() + "), " + TOKENS
                + " tokens per rank, hidden 7168, top-8 of 256: median of 20 after 10 warm-ups",
                "rows", "exact", "dispatch us", "cached dispatch us", "NCCL a2a us", "dispatch vs NCCL", "cached vs NCCL", "combine us",
                "NCCL a2a back us", "combine vs NCCL", "bytes per rank");
        ResultTable ll = new ResultTable("Low-latency mode over " + world + " GPUs, " + LL_TOKENS + " tokens per rank (reserved buffers)",
                "rows", "exact", "dispatch us", "combine us");
        Host h = Host.random(world, TOKENS, 2026);
        EpReference.Dispatch ref = EpReference.dispatch(h.reference(), p, 1);
        List<float[]> refCombined = EpReference.combine(ref, ref.received().stream().map(EpReference.Received::rows).toList());
        List<TensorScope> scopes = new ArrayList<>();
        try (EpBuffer buffer = EpBuffer.onDevices(p, streams);
                GpuBench bench = GpuBench.open(Device.cuda(gpus.get(0).ordinal()), streams.get(0), new GpuBench.Options(10, 20, false))) {
            for (CudaStream s : streams) {
                scopes.add(TensorScope.open(s));
            }
            for (boolean fp8 : new boolean[] {false, true}) {
                String rows = fp8 ? "fp8" : "bf16";
                List<IntranodeEp.RankInput> in = new ArrayList<>();
                for (int s = 0; s < world; s++) {
                    gpus.get(s).makeCurrent();
                    in.add(onGpu(h, s, fp8, scopes.get(s)));
                }
                String exact;
                int[][] tpr = new int[world][];
                try (IntranodeEp.Dispatched d = buffer.dispatch(in, 1)) {
                    exact = checkDispatch(d, ref, fp8, streams);
                    for (int s = 0; s < world; s++) {
                        tpr[s] = d.layouts().get(s).tokensPerRank();
                    }
                    if (!fp8) {
                        List<Tensor> echo = d.received().stream().map(IntranodeEp.Received::x).toList();
                        List<Tensor> out = d.combine(echo);
                        for (int s = 0; s < world; s++) {
                            float[] want = refCombined.get(s).clone();
                            for (int i = 0; i < want.length; i++) {
                                want[i] = bf16(want[i]);
                            }
                            if (!Arrays.equals(want, host(out.get(s), streams.get(s)))) {
                                throw new IllegalStateException("rank " + s + ": combined tokens differ from the reference");
                            }
                            out.get(s).close();
                        }
                        exact += ", combine exact";
                    }
                }
                System.out.println(rows + ": " + exact);
                long rowBytes = fp8 ? HIDDEN + HIDDEN / 128 * 4 : HIDDEN * 2L;
                // The host side of a dispatch (some 30 CUDA calls per rank) must be compiled before it is timed.
                for (int i = 0; i < 200; i++) {
                    buffer.dispatch(in, 1).close();
                }
                GpuTiming dispatch = bench.time(rows + " dispatch", () -> buffer.dispatch(in, 1).close());
                double ncclOut = allToAll(bench, comms, streams, buffer, tpr, rowBytes, false).medianMs();
                GpuTiming combine;
                GpuTiming cached;
                try (IntranodeEp.Dispatched d = buffer.dispatch(in, 1)) {
                    cached = bench.time(rows + " cached dispatch", () -> d.redispatch(in));
                    List<Tensor> echo = new ArrayList<>();
                    for (int s = 0; s < world; s++) {
                        gpus.get(s).makeCurrent();
                        Tensor y = scopes.get(s).empty(DType.BF16, Device.cuda(gpus.get(s).ordinal()), d.received().get(s).numRows(), HIDDEN);
                        TensorOps.fill(y, 0.5, streams.get(s));
                        echo.add(y);
                    }
                    combine = bench.time(rows + " combine", () -> {
                        d.combine(echo).forEach(Tensor::close);
                        buffer.barrier();
                    });
                }
                double ncclBack = allToAll(bench, comms, streams, buffer, tpr, HIDDEN * 2L, true).medianMs();
                long bytes = 0;
                for (int s = 0; s < world; s++) {
                    bytes = Math.max(bytes, Arrays.stream(tpr[s]).asLongStream().sum() * rowBytes);
                }
                table.row(rows, exact, us(dispatch.medianMs()), us(cached.medianMs()), us(ncclOut), ratio(ncclOut / dispatch.medianMs()),
                        ratio(ncclOut / cached.medianMs()), us(combine.medianMs()), us(ncclBack), ratio(ncclBack / combine.medianMs()), bytes);
                System.out.printf(Locale.ROOT, "%s: dispatch %.1f us, cached %.1f us (NCCL %.1f us, %.2fx / %.2fx)  combine %.1f us (NCCL %.1f us, %.2fx)%n",
                        rows, dispatch.medianMs() * 1e3, cached.medianMs() * 1e3, ncclOut * 1e3, ncclOut / dispatch.medianMs(),
                        ncclOut / cached.medianMs(), combine.medianMs() * 1e3, ncclBack * 1e3, ncclBack / combine.medianMs());
            }
            // Low-latency mode, 128 tokens per rank, BF16 and FP8 rows.
            Host small = Host.random(world, LL_TOKENS, 2027);
            EpReference.LowLatencyDispatch llRef = EpReference.lowLatencyDispatch(small.reference(), p, LL_TOKENS, Float.NaN);
            for (LowLatencyEp.Format format : LowLatencyEp.Format.values()) {
                buffer.reserveLowLatency(LL_TOKENS, HIDDEN, TOP_K, format);
                List<IntranodeEp.RankInput> in = new ArrayList<>();
                for (int s = 0; s < world; s++) {
                    gpus.get(s).makeCurrent();
                    in.add(onGpu(small, s, false, scopes.get(s)));
                }
                LowLatencyEp.Dispatched d = buffer.lowLatencyDispatch(in).verify();
                String exact = "counts exact";
                for (int r = 0; r < world; r++) {
                    int[] count = hostInts(d.received().get(r).count(), streams.get(r));
                    if (!Arrays.equals(count, llRef.received().get(r).count())) {
                        throw new IllegalStateException("low-latency rank " + r + ": per-expert counts differ from the reference");
                    }
                }
                List<Tensor> outputs = new ArrayList<>();
                for (int s = 0; s < world; s++) {
                    gpus.get(s).makeCurrent();
                    Tensor y = scopes.get(s).empty(DType.BF16, Device.cuda(gpus.get(s).ordinal()), p.expertsPerRank(), (long) world * LL_TOKENS,
                            HIDDEN);
                    TensorOps.fill(y, 0.5, streams.get(s));
                    outputs.add(y);
                }
                GpuTiming dispatch = bench.time("ll dispatch", () -> {
                    buffer.lowLatencyDispatch(in);
                    buffer.barrier();
                });
                LowLatencyEp.Dispatched last = buffer.lowLatencyDispatch(in);
                GpuTiming combine = bench.time("ll combine", () -> {
                    last.combine(outputs).forEach(Tensor::close);
                    buffer.barrier();
                });
                ll.row(format.name().toLowerCase(Locale.ROOT), exact, us(dispatch.medianMs()), us(combine.medianMs()));
                System.out.printf(Locale.ROOT, "low-latency %s: dispatch %.1f us, combine %.1f us%n", format, dispatch.medianMs() * 1e3,
                        combine.medianMs() * 1e3);
            }
        } catch (RuntimeException | Error e) {
            e.printStackTrace(); // first: a failed cleanup below must not hide it
            throw e;
        } finally {
            scopes.forEach(TensorScope::close);
            comms.forEach(NcclComm::close);
            streams.forEach(CudaStream::close);
        }
        Path md = new ResultsWriter("deepep-multi-gpu", "Expert-parallel dispatch and combine over " + world + " GPUs (multi-GPU issue, run 2)")
                .environment("GPUs", world + " x " + gpus.get(0).name())
                .environment("driver", opt.getOrDefault("--driver", "?"))
                .environment("commit", opt.getOrDefault("--commit", "?"))
                .environment("peer", "NCCL grouped ncclSend/ncclRecv through infra4j's bindings, the same bytes per pair of ranks")
                .table(table)
                .table(ll)
                .note("dispatch: the whole call of every rank (layouts, one read of the counts, the row pushes), as DeepEP's normal "
                        + "dispatch; cached: DeepEP's cached dispatch (same routing, new rows: the pushes only, no host wait); NCCL: only "
                        + "the bytes moving. vs NCCL = NCCL's time / ours; the target is >= 0.9.")
                .appendTo(Path.of(opt.getOrDefault("--out", "benchmarks/results")));
        System.out.println("results appended to " + md);
    }

    /** An all-to-all of the bytes the dispatch moves (back: the reverse, combine's), timed on rank 0's stream. */
    static GpuTiming allToAll(GpuBench bench, List<NcclComm> comms, List<CudaStream> streams, EpBuffer buffer, int[][] tpr, long rowBytes,
            boolean back) {
        int w = comms.size();
        List<Tensor> send = new ArrayList<>(), recv = new ArrayList<>();
        long[][] sendAt = new long[w][w + 1], recvAt = new long[w][w + 1];
        for (int r = 0; r < w; r++) {
            for (int q = 0; q < w; q++) {
                long out = back ? tpr[q][r] : tpr[r][q]; // rows r sends to q
                long in = back ? tpr[r][q] : tpr[q][r];
                sendAt[r][q + 1] = sendAt[r][q] + out * rowBytes;
                recvAt[r][q + 1] = recvAt[r][q] + in * rowBytes;
            }
            comms.get(r).device().makeCurrent();
            Device dev = Device.cuda(comms.get(r).device().ordinal());
            send.add(Tensor.empty(DType.U8, dev, streams.get(r), Math.max(1, sendAt[r][w])));
            recv.add(Tensor.empty(DType.U8, dev, streams.get(r), Math.max(1, recvAt[r][w])));
        }
        try {
            buffer.barrier();
            return bench.time((back ? "NCCL back" : "NCCL") + " all-to-all", () -> {
                NcclComm.group(() -> {
                    for (int r = 0; r < w; r++) {
                        for (int q = 0; q < w; q++) {
                            long n = sendAt[r][q + 1] - sendAt[r][q];
                            if (n > 0) {
                                comms.get(r).send(send.get(r).address() + sendAt[r][q], n, NcclDataType.UINT8, q, streams.get(r));
                            }
                            long m = recvAt[r][q + 1] - recvAt[r][q];
                            if (m > 0) {
                                comms.get(r).recv(recv.get(r).address() + recvAt[r][q], m, NcclDataType.UINT8, q, streams.get(r));
                            }
                        }
                    }
                });
                buffer.barrier();
            });
        } finally {
            buffer.barrier();
            for (int r = 0; r < w; r++) {
                comms.get(r).device().makeCurrent();
                send.get(r).close();
                recv.get(r).close();
            }
        }
    }

    static float bf16(float v) {
        return (float) io.infra4j.memory.DTypeCodec.decodeScalar(DType.BF16, io.infra4j.memory.DTypeCodec.encodeScalar(DType.BF16, v));
    }

    static String us(double ms) {
        return String.format(Locale.ROOT, "%.1f", ms * 1e3);
    }

    static String ratio(double r) {
        return String.format(Locale.ROOT, "%.2f", r);
    }
}

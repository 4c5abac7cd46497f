package io.infra4j.benchmarks.nccl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.nccl.NcclComm;
import io.infra4j.ffm.nccl.NcclDataType;
import io.infra4j.ffm.nccl.NcclRedOp;
import io.infra4j.ffm.nccl.NcclUniqueId;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import java.io.File;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * NCCL through infra4j's bindings on every visible GPU, one thread and one communicator rank per
 * GPU (ncclCommInitRank with a shared unique id): an in-place FP32 all-reduce and an all-to-all made
 * of grouped sends and receives, as PyTorch's {@code all_to_all_single} does. Each op is first checked
 * for exact results on every rank, then timed: the ranks meet at a barrier, each records a CUDA event,
 * queues {@value #ITERS} ops and records another; a run's time is the slowest rank's, and the figure
 * the median of {@value #RUNS} runs. Bus bandwidth follows nccl-tests: algorithm bandwidth (bytes per
 * rank over time) times 2(n-1)/n for all-reduce and (n-1)/n for all-to-all. The PyTorch peer
 * ({@code integration-tests/gpu/torch_nccl_peer.py}, one process per GPU) runs the same sizes in the
 * same command; the ratio is ours over its.
 *
 * <pre>java ... NcclBenchmarks [--peer-json peer.json] [--out benchmarks/results] [--commit SHA] [--driver V]
 *        [--sizes-mib 1,16,64,256,1024]</pre>
 */
public final class NcclBenchmarks {
    static final int WARMUP = 5;
    static final int RUNS = 20;
    static final int ITERS = 5;
    /** Bus bandwidth targets compare at these sizes and above, where launch costs no longer matter. */
    static final long TARGET_FROM_BYTES = 64L << 20;
    static final double TARGET_RATIO = 0.95;

    enum Op {
        ALL_REDUCE("all_reduce"), ALL_TO_ALL("all_to_all");

        final String peerName;

        Op(String peerName) {
            this.peerName = peerName;
        }

        /** nccl-tests' factor from algorithm to bus bandwidth. */
        double busFactor(int n) {
            return this == ALL_REDUCE ? 2.0 * (n - 1) / n : (double) (n - 1) / n;
        }
    }

    /** One op at one size: the slowest rank's milliseconds per op, run by run, and whether the results were exact. */
    record Measured(Op op, long bytes, double[] msPerOp, boolean exact) {
        double medianMs() {
            double[] s = msPerOp.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }
    }

    private NcclBenchmarks() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("options: --peer-json FILE, --out DIR, --commit SHA, --driver V, --sizes-mib LIST; got "
                        + args[i]);
            }
            opt.put(args[i], args[++i]);
        }
        long[] sizes = Arrays.stream(opt.getOrDefault("--sizes-mib", "1,16,64,256,1024").split(","))
                .mapToLong(s -> Long.parseLong(s.trim()) << 20).toArray();
        int n = Cuda.deviceCount();
        if (n < 2) {
            System.out.println("NCCL benchmark skipped: it needs 2 GPUs or more, " + n + " here");
            return;
        }
        System.out.println("NCCL benchmark: " + n + " GPUs, one thread per rank, sizes " + Arrays.toString(sizes) + " bytes");
        List<Measured> measured = measure(n, sizes);
        write(n, measured, readPeer(opt.get("--peer-json")), opt);
    }

    static List<Measured> measure(int n, long[] sizes) throws Exception {
        NcclUniqueId id = NcclUniqueId.create();
        CyclicBarrier barrier = new CyclicBarrier(n);
        // [op][size][run][rank]
        double[][][][] ms = new double[Op.values().length][sizes.length][RUNS][n];
        boolean[][][] exact = new boolean[Op.values().length][sizes.length][n];
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<?>> ranks = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                ranks.add(pool.submit(() -> {
                    runRank(rank, n, id, sizes, barrier, ms, exact);
                    return null;
                }));
            }
            for (Future<?> f : ranks) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        List<Measured> out = new ArrayList<>();
        for (Op op : Op.values()) {
            for (int s = 0; s < sizes.length; s++) {
                double[] slowest = new double[RUNS];
                boolean ok = true;
                for (int run = 0; run < RUNS; run++) {
                    slowest[run] = Arrays.stream(ms[op.ordinal()][s][run]).max().orElseThrow() / ITERS;
                }
                for (int r = 0; r < n; r++) {
                    ok &= exact[op.ordinal()][s][r];
                }
                out.add(new Measured(op, sizes[s], slowest, ok));
            }
        }
        return out;
    }

    private static void runRank(int rank, int n, NcclUniqueId id, long[] sizes, CyclicBarrier barrier, double[][][][] ms,
            boolean[][][] exact) throws Exception {
        Cuda.useDevice(rank);
        long maxBytes = Arrays.stream(sizes).max().orElseThrow();
        try (NcclComm comm = NcclComm.initRank(n, id, rank, Cuda.device(rank));
             CudaStream stream = CudaStream.create(Cuda.device(rank));
             CudaEvent start = CudaEvent.create(Cuda.device(rank), true);
             CudaEvent end = CudaEvent.create(Cuda.device(rank), true);
             Tensor send = Tensor.empty(DType.F32, Device.cuda(rank), stream, maxBytes / 4);
             Tensor recv = Tensor.empty(DType.F32, Device.cuda(rank), stream, maxBytes / 4)) {
            for (Op op : Op.values()) {
                for (int s = 0; s < sizes.length; s++) {
                    long count = sizes[s] / 4;
                    Runnable once = () -> launch(op, comm, send, recv, count, n, stream);
                    fill(op, rank, n, send, recv, count, stream);
                    barrier.await();
                    once.run();
                    exact[op.ordinal()][s][rank] = check(op, rank, n, send, recv, count, stream);
                    for (int i = 0; i < WARMUP; i++) {
                        once.run();
                    }
                    stream.synchronize();
                    for (int run = 0; run < RUNS; run++) {
                        barrier.await();
                        start.record(stream);
                        for (int i = 0; i < ITERS; i++) {
                            once.run();
                        }
                        end.record(stream);
                        end.synchronize();
                        ms[op.ordinal()][s][run][rank] = CudaEvent.elapsedMillis(start, end);
                    }
                }
            }
            comm.checkAsyncError();
        }
    }

    private static void launch(Op op, NcclComm comm, Tensor send, Tensor recv, long count, int n, CudaStream stream) {
        if (op == Op.ALL_REDUCE) {
            comm.allReduce(send.address(), send.address(), count, NcclDataType.FLOAT32, NcclRedOp.SUM, stream);
            return;
        }
        long chunk = count / n;
        NcclComm.group(() -> {
            for (int peer = 0; peer < n; peer++) {
                comm.send(send.address() + peer * chunk * 4, chunk, NcclDataType.FLOAT32, peer, stream);
                comm.recv(recv.address() + peer * chunk * 4, chunk, NcclDataType.FLOAT32, peer, stream);
            }
        });
    }

    /**
     * All-reduce: rank r holds r+1 everywhere, so the sum is n(n+1)/2 exactly. All-to-all: the chunk
     * rank r sends to rank j holds 1000r + j, and the receive buffer is poisoned with NaN.
     */
    private static void fill(Op op, int rank, int n, Tensor send, Tensor recv, long count, CudaStream stream) {
        if (op == Op.ALL_REDUCE) {
            fillRange(send, 0, count, rank + 1, stream);
            return;
        }
        long chunk = count / n;
        for (int j = 0; j < n; j++) {
            fillRange(send, j * chunk, chunk, 1000 * rank + j, stream);
        }
        fillRange(recv, 0, count, Float.NaN, stream);
    }

    private static void fillRange(Tensor t, long from, long count, double value, CudaStream stream) {
        try (Tensor range = t.slice(0, from, from + count)) { // a view: closing it releases only its reference
            TensorOps.fill(range, value, stream);
        }
    }

    private static boolean check(Op op, int rank, int n, Tensor send, Tensor recv, long count, CudaStream stream) {
        if (op == Op.ALL_REDUCE) {
            return allEqual(send, 0, count, n * (n + 1) / 2f, stream);
        }
        long chunk = count / n;
        boolean ok = true;
        for (int j = 0; j < n; j++) {
            ok &= allEqual(recv, j * chunk, chunk, 1000 * j + rank, stream);
        }
        return ok;
    }

    private static boolean allEqual(Tensor t, long from, long count, float expected, CudaStream stream) {
        try (Tensor host = Tensor.empty(DType.F32, Device.CPU, count);
             Tensor range = t.slice(0, from, from + count)) {
            TensorOps.copy(range, host, stream);
            stream.synchronize();
            for (long i = 0; i < count; i++) {
                if (host.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i) != expected) {
                    return false;
                }
            }
            return true;
        }
    }

    static String key(Op op, long bytes) {
        return op.peerName + "/" + bytes;
    }

    /** The peer's milliseconds per op by {@link #key}, and its NCCL version (null when unknown). */
    record Peer(Map<String, Double> ms, String nccl) {}

    private static Peer readPeer(String file) throws IOException {
        Map<String, Double> ms = new HashMap<>();
        if (file == null || !new File(file).isFile()) {
            System.out.println("no peer results" + (file == null ? "" : " at " + file) + ": timing infra4j alone");
            return new Peer(ms, null);
        }
        JsonNode root = new ObjectMapper().readTree(new File(file));
        for (JsonNode r : root.get("results")) {
            ms.put(r.get("op").asText() + "/" + r.get("bytes").asLong(), r.get("ms").asDouble());
        }
        return new Peer(ms, root.path("nccl").asText(null));
    }

    private static void write(int n, List<Measured> measured, Peer peer, Map<String, String> opt) {
        ResultTable table = new ResultTable("NCCL over " + n + " GPUs, FP32, one thread per rank (infra4j) and one process per rank "
                + "(PyTorch); median of " + RUNS + " runs of " + ITERS + " ops, slowest rank",
                "op", "bytes per rank", "exact", "ms", "algbw GB/s", "busbw GB/s", "PyTorch ms", "PyTorch busbw GB/s",
                "ratio (busbw)", "target");
        List<String> misses = new ArrayList<>();
        for (Measured m : measured) {
            double ms = m.medianMs();
            double alg = m.bytes() / (ms * 1e-3) / 1e9;
            double bus = alg * m.op().busFactor(n);
            Double p = peer.ms().get(key(m.op(), m.bytes()));
            Double pBus = p == null ? null : m.bytes() / (p * 1e-3) / 1e9 * m.op().busFactor(n);
            Double ratio = pBus == null ? null : bus / pBus;
            String target = m.bytes() < TARGET_FROM_BYTES ? "-" : ratio == null ? "no peer"
                    : ratio >= TARGET_RATIO ? "met (>= " + TARGET_RATIO + ")" : "missed (>= " + TARGET_RATIO + ")";
            if (target.startsWith("missed")) {
                misses.add(m.op().peerName + " " + m.bytes());
            }
            table.row(m.op().peerName, m.bytes(), m.exact() ? "yes" : "NO", ms, alg, bus, p, pBus,
                    ratio == null ? null : Math.round(ratio * 1000) / 1000.0, target);
            System.out.printf(Locale.ROOT, "%-10s %11d B  exact %-3s %8.3f ms  busbw %7.1f GB/s  peer %s%n", m.op().peerName,
                    m.bytes(), m.exact() ? "yes" : "NO", ms, bus,
                    pBus == null ? "-" : String.format(Locale.ROOT, "%7.1f GB/s (ratio %.3f)", pBus, ratio));
        }
        Path md = new ResultsWriter("nccl", "NCCL through infra4j's bindings vs PyTorch's NCCL")
                .environment("GPU", n + " x " + Cuda.device(0).name())
                .environment("driver", opt.getOrDefault("--driver", "?"))
                .environment("commit", opt.getOrDefault("--commit", "?"))
                .environment("NCCL (infra4j)", io.infra4j.ffm.nccl.Nccl.versionString())
                .environment("NCCL (PyTorch)", peer.nccl() == null ? "-" : peer.nccl())
                .environment("NVLink multicast", "off (NCCL_NVLS_ENABLE=" + System.getenv().getOrDefault("NCCL_NVLS_ENABLE", "unset") + ")")
                .table(table)
                .note("Bus bandwidth as nccl-tests defines it: all-reduce algbw x 2(n-1)/n, all-to-all algbw x (n-1)/n; "
                        + "the target (ratio >= " + TARGET_RATIO + ") is judged from " + (TARGET_FROM_BYTES >> 20) + " MiB up.")
                .note(misses.isEmpty() ? "Every size judged met the target." : "Missed at: " + String.join(", ", misses))
                .appendTo(Path.of(opt.getOrDefault("--out", "benchmarks/results")));
        System.out.println("results appended to " + md);
        if (measured.stream().anyMatch(m -> !m.exact())) {
            throw new IllegalStateException("an NCCL op gave wrong results: see the 'exact' column");
        }
    }
}

package io.infra4j.cli;

import io.infra4j.benchmarks.deepep.EpBenchmarks;
import io.infra4j.benchmarks.deepgemm.GemmBenchmarks;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code infra4j bench <benchmark>}: times one configuration of a kernel on GPU 0, as the
 * benchmarks module times it, and prints its figures: {@code mla} (MLA decoding), {@code gemm}
 * (FP8 GEMMs) or {@code ep} (expert-parallel dispatch and combine over simulated ranks).
 */
final class BenchCommand implements Command {
    /** The benchmarks, as the first argument names them. */
    static final List<String> BENCHMARKS = List.of("mla", "gemm", "ep", "io");

    static final Option BATCH = Option.builder().longOpt("batch").hasArg().argName("B")
            .desc("mla: sequences decoded together, default 64").get();
    static final Option HEADS_Q = Option.builder().longOpt("heads-q").hasArg().argName("H")
            .desc("mla: query heads, a multiple of --heads-kv, default 64").get();
    static final Option SEQLEN_Q = Option.builder().longOpt("seqlen-q").hasArg().argName("S")
            .desc("mla: query tokens per sequence, default 1").get();
    static final Option SEQLEN_K = Option.builder().longOpt("seqlen-k").hasArg().argName("K")
            .desc("mla: cached tokens of every sequence, default 8192").get();
    static final Option HEADS_KV = Option.builder().longOpt("heads-kv").hasArg().argName("H")
            .desc("mla: heads of the KV cache, default 1").get();
    static final Option PAGE = Option.builder().longOpt("page").hasArg().argName("P")
            .desc("mla: tokens per cache block: 16, 32 or 64 (default)").get();
    static final Option CAUSAL = Option.builder().longOpt("causal")
            .desc("mla: mask the query tokens causally (default: every query token sees every key)").get();
    static final Option KV = Option.builder().longOpt("kv").hasArg().argName("bf16|fp8")
            .desc("mla: the cache's dtype: bf16 (default) or fp8 (E4M3, an F32 scale per 128 values)").get();
    static final Option RUNS = Option.builder().longOpt("runs").hasArg().argName("N")
            .desc("timed runs after " + MlaBench.WARMUP + " warm-ups; the median is reported; default 20").get();

    static final Option M = Option.builder().longOpt("m").hasArg().argName("M")
            .desc("gemm: rows of A (per group for contiguous and masked), default 4096").get();
    static final Option N = Option.builder().longOpt("n").hasArg().argName("N")
            .desc("gemm: rows of B (per group), a multiple of 16, default 7168").get();
    static final Option K = Option.builder().longOpt("k").hasArg().argName("K")
            .desc("gemm: the reduced dimension, a multiple of 128, default 7168").get();
    static final Option GROUPS = Option.builder().longOpt("num-groups").hasArg().argName("G")
            .desc("gemm: groups (experts) of contiguous and masked, default 4").get();
    static final Option LAYOUT = Option.builder().longOpt("layout").hasArg().argName("dense|contiguous|masked")
            .desc("gemm: dense (default), grouped contiguous or grouped masked (m_max 4096)").get();
    static final Option BACKEND = Option.builder().longOpt("backend").hasArg().argName("kernel|cublaslt")
            .desc("gemm: infra4j's kernel (default) or cuBLASLt's block-scaled FP8 matmul (dense only)").get();

    static final Option MODE = Option.builder().longOpt("ep-mode").hasArg().argName("normal|low-latency|nccl")
            .desc("ep: DeepEP's normal mode (default), its low-latency mode, or the normal mode over NCCL (a world of one)").get();
    static final Option WORLD = Option.builder().longOpt("world").hasArg().argName("W")
            .desc("ep: simulated ranks on the GPU, dividing --experts, default 8 (nccl: 1)").get();
    static final Option TOKENS = Option.builder().longOpt("tokens").hasArg().argName("T")
            .desc("ep: tokens per rank, default 4096 (low-latency: 128)").get();
    static final Option ROWS = Option.builder().longOpt("rows").hasArg().argName("bf16|fp8")
            .desc("ep: what the rows travel as: bf16 (default) or fp8 (low-latency: quantised on the way)").get();
    static final Option HIDDEN = Option.builder().longOpt("hidden").hasArg().argName("H")
            .desc("ep: values per token, default 7168 (fp8: a multiple of 128)").get();
    static final Option EXPERTS = Option.builder().longOpt("experts").hasArg().argName("E")
            .desc("ep: experts over all ranks, default 256").get();
    static final Option TOP_K = Option.builder().longOpt("top-k").hasArg().argName("K")
            .desc("ep: experts per token, at most --experts, default 8").get();

    static final Option IO_FILE = Option.builder().longOpt("io-file").hasArg().argName("PATH")
            .desc("io: the file to read (made with random bytes when absent or of another size), default $TMPDIR/infra4j-io-bench.bin").get();
    static final Option IO_SIZE = Option.builder().longOpt("io-size").hasArg().argName("MiB")
            .desc("io: the file's size in MiB, default 2048").get();
    static final Option IO_SECONDS = Option.builder().longOpt("io-seconds").hasArg().argName("S")
            .desc("io: seconds per pattern and engine (four interleaved runs), default 8").get();

    /** The options each benchmark takes; the others' are refused for it. */
    static final List<Option> MLA_OPTIONS = List.of(BATCH, HEADS_Q, SEQLEN_Q, SEQLEN_K, HEADS_KV, PAGE, CAUSAL, KV);
    static final List<Option> GEMM_OPTIONS = List.of(M, N, K, GROUPS, LAYOUT, BACKEND);
    static final List<Option> EP_OPTIONS = List.of(MODE, WORLD, TOKENS, ROWS, HIDDEN, EXPERTS, TOP_K);
    static final List<Option> IO_OPTIONS = List.of(IO_FILE, IO_SIZE, IO_SECONDS);
    static final Map<String, List<Option>> OPTIONS_OF = Map.of("mla", MLA_OPTIONS, "gemm", GEMM_OPTIONS, "ep", EP_OPTIONS, "io", IO_OPTIONS);

    static final MlaBench.Config DEFAULTS = new MlaBench.Config(64, 64, 1, 8192, 1, 64, false, false, 20);

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "time a kernel on GPU 0: bench mla (MLA decoding over a paged KV cache), bench gemm (FP8 GEMMs), bench ep (expert-parallel dispatch); bench io (USRBIO reads)";
    }

    @Override
    public String operands() {
        return "<benchmark>";
    }

    @Override
    public int maxOperands() {
        return 1;
    }

    @Override
    public Options options() {
        Options o = new Options();
        Stream.of(MLA_OPTIONS, GEMM_OPTIONS, EP_OPTIONS, IO_OPTIONS, List.of(RUNS)).flatMap(List::stream).forEach(o::addOption);
        return o;
    }

    @Override
    public String details() {
        return """
                Benchmarks: mla, gemm, ep, io

                mla: FlashMLA's dense decode on GPU 0 (DeepSeek's MLA: q and K of width d = 576, V and
                the output of width dv = 512), over a paged KV cache of random values whose pages are a
                random permutation of the blocks; every sequence holds --seqlen-k tokens. The inputs and
                the timing are those of the flashmla benchmark (MlaBenchmarks): CUDA events around each
                decode, the L2 flushed before each, the median of --runs after 5 warm-ups. It prints:
                  ms      the median time of one decode
                  TFLOPS  b*h_q*s_q*(2*d*s_k + 2*s_k*dv) / time
                  TB/s    b*(s_q*h_q*d*2 + s_k*h_kv*(d*kv_bytes + scales) + s_q*h_q*dv*2) / time,
                          kv_bytes 2 (bf16) or 1 (fp8, with scales = 5 FP32 per token and head):
                          q read, the cache read once, the output written
                The defaults are the issue's memory-bound configuration: b=64, h_q=64, s_q=1, s_k=8192.
                It needs a CUDA GPU with infra4j's kernels (exit code 1 without one).

                Examples:
                  infra4j bench mla
                  infra4j bench mla --batch 128 --heads-q 128 --seqlen-q 2 --seqlen-k 16384 --causal
                  infra4j bench mla --kv fp8 --seqlen-k 32768 --json

                gemm: DeepGEMM's FP8 GEMM on GPU 0, D[m, n] (BF16) = A[m, k] B[n, k]^T with A and B in
                e4m3, A scaled per 1 x 128 and B per 128 x 128 block, as the deepgemm benchmark
                (GemmBenchmarks) times it: random finite e4m3 operands, CUDA events, the L2 flushed
                before each run, the median of --runs after 5 warm-ups. --layout contiguous puts
                --num-groups groups of --m rows one after another (MoE prefill); masked gives each of
                --num-groups groups --m valid rows of m_max 4096 (MoE decode). It prints:
                  ms      the median time of one GEMM
                  TFLOPS  2 * (rows computed) * n * k / time
                  TB/s    (A + B + their scales + D) bytes / time
                The defaults: dense, m = 4096, n = 7168, k = 7168, infra4j's kernel.

                Examples:
                  infra4j bench gemm
                  infra4j bench gemm --m 64 --n 2112 --k 7168 --backend cublaslt
                  infra4j bench gemm --layout masked --num-groups 6 --m 1024 --n 4096 --k 7168 --json

                ep: DeepEP's dispatch and combine with --world simulated ranks on GPU 0 (each rank its own
                buffers; the kernels write into the others' by address), as the deepep benchmark
                (EpBenchmarks) times them: --tokens per rank, each routed to --top-k distinct experts of
                --experts chosen uniformly. --ep-mode normal times the whole dispatch call of all ranks (the
                layouts, the one read of the counts, the row pushes) and the combine; low-latency times
                the dispatch into the per-expert buffers (--rows fp8: quantised per 1 x 128 group on the
                way) and the weighted combine; nccl runs the normal mode through NCCL with a world of
                one. CUDA events, the L2 flushed before each run, the median of --runs after 50 warm-ups.
                It prints:
                  layout    one rank's get_dispatch_layout kernel
                  dispatch  time, and GB/s of the rows received (hidden values, plus scales for fp8)
                  combine   time, and GB/s of the BF16 rows returned
                  copy      a device-to-device copy of the same bytes, the one-GPU peer
                The defaults: normal mode, 8 ranks, 4096 tokens each, hidden 7168, top-8 of 256, BF16.

                Examples:
                  infra4j bench ep
                  infra4j bench ep --ep-mode low-latency --world 8 --rows fp8
                  infra4j bench ep --ep-mode nccl --tokens 1024 --json

                io: reads of one file with O_DIRECT through USRBIO's embedded io_uring backend (4 rings sharing
                the queue depth), against FileChannel (O_DIRECT, from a pool of as many threads as cores, and
                from one of as many threads as the queue depth) and fio's io_uring engine (when fio is
                installed) on the same file: 4 KiB random reads at queue depth 32 and 1 MiB sequential reads at
                queue depth 8, each engine four times, interleaved, the best run kept. It prints IOPS and MB/s
                per engine, and ours over each. No GPU needed.

                Examples:
                  infra4j bench io
                  infra4j bench io --io-file /mnt/nvme/big.bin --io-size 16384 --io-seconds 10 --json
                """;
    }

    @Override
    public int run(CommandLine line, Session session) throws UsageException {
        List<String> operands = line.getArgList();
        if (operands.size() < 2) {
            throw new UsageException("bench needs the name of a benchmark; benchmarks: " + String.join(", ", BENCHMARKS));
        }
        String benchmark = operands.get(1);
        if (!BENCHMARKS.contains(benchmark)) {
            throw new UsageException("bench: unknown benchmark '" + benchmark + "'; benchmarks: "
                    + String.join(", ", BENCHMARKS));
        }
        for (Map.Entry<String, List<Option>> other : OPTIONS_OF.entrySet()) {
            if (!other.getKey().equals(benchmark)) {
                refuseOthers(line, benchmark, other.getValue());
            }
        }
        if (benchmark.equals("gemm")) {
            return runGemm(line, session);
        }
        if (benchmark.equals("ep")) {
            return runEp(line, session);
        }
        if (benchmark.equals("io")) {
            return runIo(line, session);
        }
        MlaBench.Config config = mlaConfig(line);
        String missing = MlaBench.gpuMissing();
        if (missing != null) {
            return session.refused("bench mla needs a CUDA GPU: " + missing);
        }
        session.debug("bench mla: " + config.name() + ", " + config.runs() + " runs");
        MlaBench.Result r = MlaBench.run(config);
        if (session.json()) {
            Json.print(json(r), session.out());
        } else {
            print(r, session.out());
        }
        return Main.OK;
    }

    private static void refuseOthers(CommandLine line, String benchmark, List<Option> others) throws UsageException {
        for (Option o : others) {
            if (line.hasOption(o)) {
                throw new UsageException("--" + o.getLongOpt() + " is not an option of 'bench " + benchmark + "'");
            }
        }
    }

    private int runGemm(CommandLine line, Session session) throws UsageException {
        GemmBench.Config config = gemmConfig(line);
        String missing = GemmBench.gpuMissing(config.backend());
        if (missing != null) {
            return session.refused("bench gemm needs a CUDA GPU: " + missing);
        }
        session.debug("bench gemm: " + config.shape().name() + ", " + config.runs() + " runs");
        GemmBench.Result r = GemmBench.run(config);
        if (session.json()) {
            Json.print(json(r), session.out());
        } else {
            print(r, session.out());
        }
        return Main.OK;
    }

    private int runEp(CommandLine line, Session session) throws UsageException {
        EpBenchmarks.Config config = epConfig(line);
        int runs = Arguments.positive(line, RUNS, 20);
        String missing = EpBench.gpuMissing(config);
        if (missing != null) {
            return session.refused("bench ep needs a CUDA GPU: " + missing);
        }
        session.debug("bench ep: " + config.name() + ", " + runs + " runs");
        EpBench.Result r = EpBench.run(config, runs);
        if (session.json()) {
            Json.print(EpBench.json(r), session.out());
        } else {
            EpBench.print(r, session.out());
        }
        return Main.OK;
    }

    private int runIo(CommandLine line, Session session) throws UsageException {
        java.nio.file.Path file = java.nio.file.Path.of(line.hasOption(IO_FILE) ? line.getOptionValue(IO_FILE)
                : System.getProperty("java.io.tmpdir") + "/infra4j-io-bench.bin");
        long mib = Arguments.positive(line, IO_SIZE, 2048);
        int seconds = Arguments.positive(line, IO_SECONDS, 8);
        if (!io.infra4j.threefs.Usrbio.isEmbeddedAvailable()) {
            return session.refused("bench io needs the embedded USRBIO library: " + TextFormat.reason(io.infra4j.threefs.Usrbio.embeddedUnavailableReason()));
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        List<Map<String, Object>> rows = new java.util.ArrayList<>();
        try {
            session.debug("bench io: preparing " + file + " (" + mib + " MiB)");
            io.infra4j.benchmarks.threefs.IoBenchmarks.prepareFile(file, mib << 20);
            for (var p : List.of(io.infra4j.benchmarks.threefs.IoBenchmarks.RANDOM_4K, io.infra4j.benchmarks.threefs.IoBenchmarks.SEQ_1M)) {
                var f = io.infra4j.benchmarks.threefs.IoBenchmarks.compare(file, p, seconds);
                for (var x : f) {
                    if (x == null) {
                        continue;
                    }
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("pattern", p.name());
                    row.put("engine", x.engine());
                    row.put("iops", x.iops());
                    row.put("mb_per_s", x.mbPerSecond());
                    row.put("ours_vs_this", f.get(0).iops() / x.iops());
                    rows.add(row);
                    if (!session.json()) {
                        session.out().printf(Locale.ROOT, "%-28s %-40s %10.0f IOPS %9.1f MB/s  ours %.2fx%n", p.name(), x.engine(), x.iops(),
                                x.mbPerSecond(), f.get(0).iops() / x.iops());
                    }
                }
                if (f.get(3) == null && !session.json()) {
                    session.out().println(p.name() + ": fio is not installed here: no fio peer");
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("bench io: " + e.getMessage(), e);
        }
        if (session.json()) {
            doc.put("benchmark", "io");
            doc.put("file", file.toString());
            doc.put("size_mib", mib);
            doc.put("rows", rows);
            Json.print(doc, session.out());
        }
        return Main.OK;
    }

    /** The ep configuration the options ask for, checked before any GPU work. */
    static EpBenchmarks.Config epConfig(CommandLine line) throws UsageException {
        String mode = choice(line, MODE, "normal", List.of("normal", "low-latency", "nccl"));
        int world = Arguments.positive(line, WORLD, mode.equals("nccl") ? 1 : 8);
        int tokens = Arguments.positive(line, TOKENS, mode.equals("low-latency") ? 128 : 4096);
        boolean fp8 = choice(line, ROWS, "bf16", List.of("bf16", "fp8")).equals("fp8");
        int hidden = Arguments.positive(line, HIDDEN, EpBenchmarks.HIDDEN);
        int experts = Arguments.positive(line, EXPERTS, EpBenchmarks.EXPERTS);
        int topK = Arguments.positive(line, TOP_K, EpBenchmarks.TOP_K);
        if (mode.equals("nccl") && world != 1) {
            throw new UsageException("--world: the nccl mode runs one rank per GPU, so a world of one here; got " + world);
        }
        if (world > 64) {
            throw new UsageException("--world: at most 64 ranks, got " + world);
        }
        if (experts % world != 0) {
            throw new UsageException("--experts: expected a multiple of --world (" + world + "), got " + experts);
        }
        if (topK > experts) {
            throw new UsageException("--top-k: at most --experts (" + experts + "), got " + topK);
        }
        if (hidden % 2 != 0 || (fp8 && hidden % 128 != 0)) {
            throw new UsageException("--hidden: expected an even number" + (fp8 ? " and, for fp8, a multiple of 128" : "") + ", got " + hidden);
        }
        if (fp8 && mode.equals("low-latency") && hidden > 32768) {
            throw new UsageException("--hidden: the low-latency FP8 dispatch quantises rows of at most 32768 values, got " + hidden);
        }
        return new EpBenchmarks.Config(mode, world, tokens, fp8, hidden, experts, topK);
    }

    /** The gemm configuration the options ask for; the rest is checked by deepgemm. */
    static GemmBench.Config gemmConfig(CommandLine line) throws UsageException {
        int m = Arguments.positive(line, M, 4096);
        int n = Arguments.positive(line, N, 7168);
        int k = Arguments.positive(line, K, 7168);
        int groups = Arguments.positive(line, GROUPS, 4);
        int runs = Arguments.positive(line, RUNS, 20);
        String layout = choice(line, LAYOUT, "dense", List.of("dense", "contiguous", "masked"));
        String backend = choice(line, BACKEND, "kernel", List.of("kernel", "cublaslt"));
        if (k % 128 != 0) {
            throw new UsageException("--k: expected a multiple of 128 (the scale blocks), got " + k);
        }
        if (n % 16 != 0) {
            throw new UsageException("--n: expected a multiple of 16, got " + n);
        }
        if (layout.equals("contiguous") && m % 128 != 0) {
            throw new UsageException("--m: contiguous groups are padded to 128 rows, so expected a multiple of 128, got " + m);
        }
        if (layout.equals("masked") && m > GemmBenchmarks.Config.MASKED_M_MAX) {
            throw new UsageException("--m: masked groups hold at most m_max = " + GemmBenchmarks.Config.MASKED_M_MAX
                    + " rows, got " + m);
        }
        if (backend.equals("cublaslt") && !layout.equals("dense")) {
            throw new UsageException("--backend cublaslt: cuBLASLt runs the dense layout only, got --layout " + layout);
        }
        return new GemmBench.Config(layout, layout.equals("dense") ? 1 : groups, m, n, k, backend, runs);
    }

    private static String choice(CommandLine line, Option option, String fallback, List<String> allowed) throws UsageException {
        if (!line.hasOption(option)) {
            return fallback;
        }
        String v = line.getOptionValue(option).trim().toLowerCase(Locale.ROOT);
        if (!allowed.contains(v)) {
            throw new UsageException("--" + option.getLongOpt() + ": expected " + String.join(", ", allowed) + ", got '"
                    + line.getOptionValue(option) + "'");
        }
        return v;
    }

    static Map<String, Object> json(GemmBench.Result r) {
        GemmBench.Config c = r.config();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("layout", c.layout());
        config.put("groups", c.groups());
        config.put("m", c.rows());
        config.put("n", c.n());
        config.put("k", c.k());
        config.put("backend", c.backend());
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("benchmark", "gemm");
        doc.put("name", c.shape().name());
        doc.put("device", "cuda:0");
        doc.put("gpu", r.gpu());
        doc.put("config", config);
        doc.put("timing", "CUDA events, median of " + c.runs() + " runs after " + GemmBench.WARMUP + " warm-ups, L2 flushed");
        doc.put("ms", r.ms());
        doc.put("min_ms", r.timing().minMs());
        doc.put("max_ms", r.timing().maxMs());
        doc.put("runs_ms", r.timing().runs());
        doc.put("flops", c.shape().flops());
        doc.put("bytes", c.shape().bytes());
        doc.put("tflops", r.tflops());
        doc.put("tb_per_s", r.tbPerSecond());
        return doc;
    }

    static void print(GemmBench.Result r, PrintStream out) {
        GemmBench.Config c = r.config();
        out.printf(Locale.ROOT, "bench gemm on GPU 0 (%s): %s, %s%n", r.gpu(), c.shape().name(),
                c.backend().equals("kernel") ? "infra4j kernel" : "cuBLASLt");
        out.printf(Locale.ROOT, "  time    %.4f ms (median of %d runs after %d warm-ups, L2 flushed; min %.4f, max %.4f)%n",
                r.ms(), c.runs(), GemmBench.WARMUP, r.timing().minMs(), r.timing().maxMs());
        out.printf(Locale.ROOT, "  TFLOPS  %.1f (%.4g FLOPs)%n", r.tflops(), c.shape().flops());
        out.printf(Locale.ROOT, "  TB/s    %.3f (%.4g bytes)%n", r.tbPerSecond(), c.shape().bytes());
    }

    /** The mla configuration the options ask for; only the usage is checked here, the rest by flashmla. */
    static MlaBench.Config mlaConfig(CommandLine line) throws UsageException {
        MlaBench.Config d = DEFAULTS;
        int batch = Arguments.positive(line, BATCH, d.batch());
        int headsQ = Arguments.positive(line, HEADS_Q, d.headsQ());
        int seqlenQ = Arguments.positive(line, SEQLEN_Q, d.seqlenQ());
        int seqlenK = Arguments.positive(line, SEQLEN_K, d.seqlenK());
        int headsKv = Arguments.positive(line, HEADS_KV, d.headsKv());
        int page = Arguments.positive(line, PAGE, d.pageSize());
        int runs = Arguments.positive(line, RUNS, d.runs());
        if (page != 16 && page != 32 && page != 64) {
            throw new UsageException("--page: expected 16, 32 or 64, got " + page);
        }
        if (headsQ % headsKv != 0) {
            throw new UsageException("--heads-q: expected a multiple of --heads-kv (" + headsKv + "), got " + headsQ);
        }
        boolean fp8 = false;
        if (line.hasOption(KV)) {
            String kv = line.getOptionValue(KV).trim().toLowerCase(Locale.ROOT);
            if (!kv.equals("bf16") && !kv.equals("fp8")) {
                throw new UsageException("--kv: expected bf16 or fp8, got '" + line.getOptionValue(KV) + "'");
            }
            fp8 = kv.equals("fp8");
        }
        MlaBench.Config c = new MlaBench.Config(batch, headsQ, seqlenQ, seqlenK, headsKv, page, line.hasOption(CAUSAL), fp8,
                runs);
        if (c.blocks() > Integer.MAX_VALUE) {
            throw new UsageException("--batch x --seqlen-k: the cache would need " + c.blocks() + " blocks of " + page
                    + " tokens; block numbers are 32-bit, at most " + Integer.MAX_VALUE);
        }
        return c;
    }

    static Map<String, Object> json(MlaBench.Result r) {
        MlaBench.Config c = r.config();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("batch", c.batch());
        config.put("heads_q", c.headsQ());
        config.put("seqlen_q", c.seqlenQ());
        config.put("seqlen_k", c.seqlenK());
        config.put("heads_kv", c.headsKv());
        config.put("head_dim", MlaBench.D);
        config.put("head_dim_v", MlaBench.DV);
        config.put("page_size", c.pageSize());
        config.put("causal", c.causal());
        config.put("kv", c.kv());
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("benchmark", "mla");
        doc.put("name", c.name());
        doc.put("device", "cuda:0");
        doc.put("gpu", r.gpu());
        doc.put("config", config);
        doc.put("plan", Map.of("splits", r.splits(), "longest_split", r.longestSplit()));
        doc.put("timing", "CUDA events, median of " + c.runs() + " runs after " + MlaBench.WARMUP + " warm-ups, L2 flushed");
        doc.put("ms", r.ms());
        doc.put("min_ms", r.timing().minMs());
        doc.put("max_ms", r.timing().maxMs());
        doc.put("runs_ms", r.timing().runs());
        doc.put("flops", c.flops());
        doc.put("bytes", c.bytes());
        doc.put("tflops", r.tflops());
        doc.put("tb_per_s", r.tbPerSecond());
        return doc;
    }

    static void print(MlaBench.Result r, PrintStream out) {
        MlaBench.Config c = r.config();
        out.printf(Locale.ROOT, "bench mla on GPU 0 (%s): %s%n", r.gpu(), c.name());
        out.printf(Locale.ROOT, "  config  b=%d h_q=%d s_q=%d s_k=%d h_kv=%d d=%d dv=%d, page %d, %s cache, %s%n",
                c.batch(), c.headsQ(), c.seqlenQ(), c.seqlenK(), c.headsKv(), MlaBench.D, MlaBench.DV, c.pageSize(),
                c.kv(), c.causal() ? "causal" : "not causal");
        out.printf(Locale.ROOT, "  plan    %d splits of up to %d tokens%n", r.splits(), r.longestSplit());
        out.printf(Locale.ROOT, "  time    %.4f ms (median of %d runs after %d warm-ups, L2 flushed; min %.4f, max %.4f)%n",
                r.ms(), c.runs(), MlaBench.WARMUP, r.timing().minMs(), r.timing().maxMs());
        out.printf(Locale.ROOT, "  TFLOPS  %.2f (%.4g FLOPs)%n", r.tflops(), c.flops());
        out.printf(Locale.ROOT, "  TB/s    %.3f (%.4g bytes)%n", r.tbPerSecond(), c.bytes());
    }
}

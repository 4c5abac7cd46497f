package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.infra4j.benchmarks.gpu.GpuTiming;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.apache.commons.cli.Option;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code infra4j bench}: its command line, the figures' formulas and their output. The timing itself
 * needs a GPU (CI has none): here it must refuse with the reason and exit code 1.
 */
class BenchCommandTest {
    private static MlaBench.Config config(String... args) throws UsageException {
        String[] all = new String[args.length + 2];
        all[0] = "bench";
        all[1] = "mla";
        System.arraycopy(args, 0, all, 2, args.length);
        return BenchCommand.mlaConfig(Arguments.parse(all, Main.commands()).line());
    }

    /** Every bad command line: exit 2, the problem named, a pointer to help, nothing on stdout. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "bench                                | bench needs the name of a benchmark; benchmarks: mla, gemm, ep",
            "bench foo                            | bench: unknown benchmark 'foo'; benchmarks: mla, gemm, ep, io",
            "bench MLA                            | bench: unknown benchmark 'MLA'; benchmarks: mla, gemm, ep, io",
            "bench mla extra                      | unexpected argument 'extra' after 'bench'",
            "bench mla --bogus                    | unknown option '--bogus'",
            "bench mla --size 5                   | option --size is not an option of 'bench'",
            "info --batch 4                       | option --batch is not an option of 'info'",
            "bench mla --batch                    | option --batch needs a value (B)",
            "bench mla --batch 0                  | --batch: expected a positive integer, got 0",
            "bench mla --batch x                  | --batch: expected an integer, got 'x'",
            "bench mla --heads-q -4               | --heads-q: expected a positive integer, got -4",
            "bench mla --seqlen-q 0               | --seqlen-q: expected a positive integer, got 0",
            "bench mla --seqlen-k 1e3             | --seqlen-k: expected an integer, got '1e3'",
            "bench mla --runs 0                   | --runs: expected a positive integer, got 0",
            "bench mla --page 128                 | --page: expected 16, 32 or 64, got 128",
            "bench mla --heads-q 6 --heads-kv 4   | --heads-q: expected a multiple of --heads-kv (4), got 6",
            "bench mla --kv fp16                  | --kv: expected bf16 or fp8, got 'fp16'",
            "bench mla --batch 2000000 --seqlen-k 2000000 --page 16 | block numbers are 32-bit",
            "bench mla --m 4                      | --m is not an option of 'bench mla'",
            "bench gemm --batch 4                 | --batch is not an option of 'bench gemm'",
            "bench gemm --k 100                   | --k: expected a multiple of 128 (the scale blocks), got 100",
            "bench gemm --n 20                    | --n: expected a multiple of 16, got 20",
            "bench gemm --m 0                     | --m: expected a positive integer, got 0",
            "bench gemm --layout foo              | --layout: expected dense, contiguous, masked, got 'foo'",
            "bench gemm --backend cudnn           | --backend: expected kernel, cublaslt, got 'cudnn'",
            "bench gemm --layout masked --m 5000  | --m: masked groups hold at most m_max = 4096 rows, got 5000",
            "bench gemm --layout contiguous --m 100 | --m: contiguous groups are padded to 128 rows",
            "bench gemm --layout masked --backend cublaslt | cuBLASLt runs the dense layout only",
            "bench gemm --world 2                 | --world is not an option of 'bench gemm'",
            "bench ep --m 64                      | --m is not an option of 'bench ep'",
            "bench ep --ep-mode fast              | --ep-mode: expected normal, low-latency, nccl, got 'fast'",
            "bench ep --world 3                   | --experts: expected a multiple of --world (3), got 256",
            "bench ep --world 128 --experts 256   | --world: at most 64 ranks, got 128",
            "bench ep --ep-mode nccl --world 2       | --world: the nccl mode runs one rank per GPU",
            "bench ep --top-k 9 --experts 8       | --top-k: at most --experts (8), got 9",
            "bench ep --rows fp8 --hidden 200     | --hidden: expected an even number and, for fp8, a multiple of 128, got 200",
            "bench ep --rows int8                 | --rows: expected bf16, fp8, got 'int8'",
            "bench ep --ep-mode low-latency --rows fp8 --hidden 65536 | quantises rows of at most 32768 values",
    })
    void badCommandLinesExitWithTwo(String line, String message) {
        Cli r = Cli.run(line.trim().split("\\s+"));
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains(message), () -> "expected '" + message + "' in\n" + r);
        assertTrue(r.err().contains("infra4j help"), r::toString);
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r::toString);
        assertEquals("", r.out(), r::toString);
    }

    @Test
    void gemmWithoutAGpuSaysWhyAndExitsWithOne() {
        String why = GemmBench.gpuMissing("kernel");
        assumeTrue(why != null, "this machine can run the FP8 GEMM kernel");
        Cli r = Cli.run("bench", "gemm", "--m", "64", "--no-progress");
        assertEquals(1, r.code(), r::toString);
        assertEquals("", r.out(), r::toString);
        assertEquals("infra4j: error: bench gemm needs a CUDA GPU: " + why, r.err().strip(), r::toString);
    }

    @Test
    void gemmOptionsMakeTheShape() throws UsageException {
        GemmBench.Config c = BenchCommand.gemmConfig(Arguments.parse(new String[] {"bench", "gemm", "--layout", "masked",
                "--num-groups", "6", "--m", "1024", "--n", "4096", "--k", "7168"}, Main.commands()).line());
        assertEquals("masked g=6 m=1024 n=4096 k=7168", c.shape().name());
        assertEquals(2.0 * 6 * 1024 * 4096 * 7168, c.shape().flops());
        GemmBench.Config d = BenchCommand.gemmConfig(Arguments.parse(new String[] {"bench", "gemm"}, Main.commands()).line());
        assertEquals("dense m=4096 n=7168 k=7168", d.shape().name());
        assertEquals(1, d.groups());
    }

    @Test
    void epOptionsMakeTheConfiguration() throws UsageException {
        var d = BenchCommand.epConfig(Arguments.parse(new String[] {"bench", "ep"}, Main.commands()).line());
        assertEquals("normal W=8 T=4096 bf16", d.name());
        var ll = BenchCommand.epConfig(Arguments.parse(new String[] {"bench", "ep", "--ep-mode", "low-latency", "--rows", "fp8"},
                Main.commands()).line());
        assertEquals("low-latency W=8 T=128 fp8", ll.name());
        var n = BenchCommand.epConfig(Arguments.parse(new String[] {"bench", "ep", "--ep-mode", "nccl", "--hidden", "4096", "--experts",
                "64", "--top-k", "6"}, Main.commands()).line());
        assertEquals("nccl W=1 T=4096 bf16 h=4096 E=64 k=6", n.name());
    }

    @Test
    void epWithoutAGpuSaysWhyAndExitsWithOne() {
        var c = new io.infra4j.benchmarks.deepep.EpBenchmarks.Config("normal", 8, 4096, false);
        String why = EpBench.gpuMissing(c);
        assumeTrue(why != null, "this machine has a GPU");
        Cli r = Cli.run("bench", "ep", "--no-progress");
        assertEquals(1, r.code(), r::toString);
        assertEquals("", r.out(), r::toString);
        assertEquals("infra4j: error: bench ep needs a CUDA GPU: " + why, r.err().strip(), r::toString);
    }

    @Test
    void withoutAGpuItSaysWhyAndExitsWithOne() {
        String why = MlaBench.gpuMissing();
        assumeTrue(why != null, "this machine can run the MLA kernel");
        Cli r = Cli.run("bench", "mla", "--no-progress");
        assertEquals(1, r.code(), r::toString);
        assertEquals("", r.out(), r::toString);
        assertEquals("infra4j: error: bench mla needs a CUDA GPU: " + why, r.err().strip(), r::toString);
        assertEquals(1, r.err().lines().count(), r::toString);

        Cli j = Cli.run("bench", "mla", "--seqlen-k", "1024", "--kv", "fp8", "--json");
        assertEquals(1, j.code(), j::toString);
        assertEquals("", j.err(), j::toString);
        assertEquals(1, j.json().size(), j::toString);
        assertEquals("bench mla needs a CUDA GPU: " + why, j.json().get("error").asText(), j::toString);
    }

    @Test
    void theReasonIsOneLineWithoutTheLibrarySearch() {
        String why = MlaBench.gpuMissing();
        assumeTrue(why != null, "this machine can run the MLA kernel");
        assertFalse(why.isBlank());
        assertFalse(why.contains("\n"), why);
        assertFalse(why.endsWith("looked in:"), why);
    }

    @Test
    void theDefaultsAreTheMemoryBoundConfiguration() throws UsageException {
        MlaBench.Config c = config();
        assertEquals(BenchCommand.DEFAULTS, c);
        assertEquals(new MlaBench.Config(64, 64, 1, 8192, 1, 64, false, false, 20), c);
        // The flashmla benchmark's name for it, so that both draw the same inputs.
        assertEquals("b64 hq64 sq1 sk8192", c.name());
    }

    @Test
    void everyOptionIsRead() throws UsageException {
        MlaBench.Config c = config("--batch", "128", "--heads-q", "128", "--seqlen-q", "2", "--seqlen-k", "16384",
                "--heads-kv", "2", "--page", "32", "--causal", "--kv", "FP8", "--runs", "7");
        assertEquals(new MlaBench.Config(128, 128, 2, 16384, 2, 32, true, true, 7), c);
        assertEquals("b128 hq128 sq2 sk16384 hkv2 page32 causal fp8", c.name());
        assertEquals(128L * 512, c.blocks());
        assertEquals(1, c.kvBytes());
        assertEquals(2, config("--kv", "bf16").kvBytes());
        assertEquals(3, config("--seqlen-k", "129").pagesPerSequence(), "129 tokens take 3 pages of 64");
    }

    @Test
    void flopsAndBytesFollowTheIssuesFormulas() {
        MlaBench.Config c = BenchCommand.DEFAULTS;
        // b*h_q*s_q*(2*d*s_k + 2*s_k*dv)
        assertEquals(64.0 * 64 * (2.0 * 576 * 8192 + 2.0 * 8192 * 512), c.flops());
        assertEquals(73_014_444_032.0, c.flops());
        // b*(s_q*h_q*d*2 + s_k*h_kv*d*kv_bytes + s_q*h_q*dv*2)
        assertEquals(64.0 * (64 * 576 * 2 + 8192 * 576 * 2 + 64 * 512 * 2), c.bytes());
        assertEquals(612_892_672.0, c.bytes());
        MlaBench.Config fp8 = new MlaBench.Config(64, 64, 1, 8192, 1, 64, false, true, 20);
        // FP8: one byte a value plus five FP32 scales per token and head
        assertEquals(64.0 * (64 * 576 * 2 + 8192 * (576 + 5 * 4) + 64 * 512 * 2), fp8.bytes());
        assertEquals(c.flops(), fp8.flops(), "the same math whatever the cache holds");
        MlaBench.Config big = new MlaBench.Config(128, 128, 2, 32768, 1, 64, true, false, 20);
        assertEquals(128.0 * 128 * 2 * (2.0 * 576 * 32768 + 2.0 * 32768 * 512), big.flops());
    }

    @Test
    void textAndJsonReportTheMedian() {
        MlaBench.Result r = new MlaBench.Result(BenchCommand.DEFAULTS, "Test GPU", 264, 256,
                new GpuTiming("t", new double[] {1.2, 0.5, 0.6, 0.4}));
        assertEquals(0.55, r.ms(), 1e-12);
        assertEquals(73_014_444_032.0 / 0.55 / 1e9, r.tflops(), 1e-9);
        assertEquals(612_892_672.0 / 0.55 / 1e9, r.tbPerSecond(), 1e-12);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BenchCommand.print(r, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("bench mla on GPU 0 (Test GPU): b64 hq64 sq1 sk8192\n"), text);
        assertTrue(text.contains("b=64 h_q=64 s_q=1 s_k=8192 h_kv=1 d=576 dv=512, page 64, bf16 cache, not causal"), text);
        assertTrue(text.contains("264 splits of up to 256 tokens"), text);
        assertTrue(text.contains("0.5500 ms (median of 20 runs after 5 warm-ups, L2 flushed; min 0.4000, max 1.2000)"), text);
        assertTrue(text.contains("TFLOPS  132.75"), text);
        assertTrue(text.contains("TB/s    1.114"), text);

        Map<String, Object> doc = BenchCommand.json(r);
        assertEquals(List.of("benchmark", "name", "device", "gpu", "config", "plan", "timing", "ms", "min_ms", "max_ms",
                "runs_ms", "flops", "bytes", "tflops", "tb_per_s"), List.copyOf(doc.keySet()));
        assertEquals("mla", doc.get("benchmark"));
        assertEquals(0.55, (double) doc.get("ms"), 1e-12);
        Map<?, ?> config = (Map<?, ?>) doc.get("config");
        assertEquals(576, config.get("head_dim"));
        assertEquals(512, config.get("head_dim_v"));
        assertEquals("bf16", config.get("kv"));
        assertEquals(false, config.get("causal"));
    }

    @Test
    void theBlockTableIsAPermutationOfTheBlocks() {
        int[] table = io.infra4j.benchmarks.flashmla.MlaInputs.permutation(new SplittableRandom(1), 1000);
        int[] seen = new int[1000];
        for (int b : table) {
            seen[b]++;
        }
        for (int n : seen) {
            assertEquals(1, n);
        }
        assertFalse(Arrays.equals(table, IntStream.range(0, 1000).toArray()), "shuffled");
    }

    @Test
    void helpShowsTheBenchmarkItsOptionsAndFormulas() {
        for (String[] args : new String[][] {{"help", "bench"}, {"bench", "--help"}, {"bench", "mla", "--help"}}) {
            Cli r = Cli.run(args);
            assertEquals(0, r.code(), r::toString);
            assertTrue(r.out().startsWith("usage: infra4j [global options] bench <benchmark> [options]"), r::toString);
            for (String s : new String[] {"Benchmarks: mla", "--batch <B>", "--heads-q <H>", "--seqlen-q <S>",
                    "--seqlen-k <K>", "--heads-kv <H>", "--page <P>", "--causal", "--kv <bf16|fp8>", "--runs <N>",
                    "b*h_q*s_q*(2*d*s_k + 2*s_k*dv)", "b*(s_q*h_q*d*2 + s_k*h_kv*(d*kv_bytes + scales) + s_q*h_q*dv*2)"}) {
                assertTrue(r.out().contains(s), () -> s + " missing from\n" + r);
            }
        }
        Cli general = Cli.run("help");
        assertTrue(general.out().contains("  bench    time a kernel on GPU 0"), general::toString);
    }

    /**
     * Arguments merges every command's options into one parser, which reads a name with the first definition
     * it met: a name two commands use (pond's --input and eplb's, both from their issues) must take its value
     * the same way in both, and no command may reuse a global option's name.
     */
    @Test
    void optionNamesSharedAcrossCommandsAreReadAlike() {
        Map<String, Option> first = new HashMap<>();
        Map<String, String> owner = new HashMap<>();
        Arguments.globalOptions().getOptions().forEach(o -> owner.put(o.getLongOpt(), "global"));
        for (Command c : Main.commands()) {
            for (Option o : c.options().getOptions()) {
                String before = owner.putIfAbsent(o.getLongOpt(), c.name());
                assertTrue(!"global".equals(before), () -> "--" + o.getLongOpt() + " of " + c.name() + " is a global option");
                Option earlier = first.putIfAbsent(o.getLongOpt(), o);
                assertTrue(earlier == null || earlier.hasArg() == o.hasArg() && earlier.hasArgs() == o.hasArgs()
                        && earlier.hasOptionalArg() == o.hasOptionalArg(),
                        () -> "--" + o.getLongOpt() + " of " + c.name() + " takes its value unlike " + owner.get(o.getLongOpt()) + "'s");
            }
        }
    }
}

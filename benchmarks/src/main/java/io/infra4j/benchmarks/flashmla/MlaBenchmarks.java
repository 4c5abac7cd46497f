package io.infra4j.benchmarks.flashmla;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.infra4j.benchmarks.gpu.GpuBench;
import io.infra4j.benchmarks.gpu.GpuTiming;
import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaStream;
import io.infra4j.flashmla.MlaOptions;
import io.infra4j.memory.Device;
import io.infra4j.memory.TensorScope;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The MLA decode benchmark of the flashmla issue, on GPU 0: kernel time by CUDA events (median of
 * 20 after 5 warm-ups, L2 flushed), FLOPs = b*h_q*s_q*(2*d*mean_s_k + 2*mean_s_k*dv) and bytes =
 * b*(s_q*h_q*d*2 + mean_s_k*h_kv*d*2 + s_q*h_q*dv*2) as FlashMLA counts them, against the PyTorch
 * peer ({@code integration-tests/gpu/torch_mla_peer.py}) run on the same lengths in the same command.
 *
 * <pre>
 * java ... MlaBenchmarks --configs-out configs.json             # the configurations and their lengths
 * python3 torch_mla_peer.py --configs configs.json --out peer.json
 * java ... MlaBenchmarks --peer-json peer.json --out benchmarks/results [--commit SHA] [--driver V]
 * java ... MlaBenchmarks --only "b64 hq64" --out /tmp/x               # a subset (profiling); results go to /tmp/x
 * </pre>
 */
public final class MlaBenchmarks {
    static final int D = MlaInputs.D;
    static final int DV = MlaInputs.DV;
    static final int PAGE = 64;

    /** One configuration; lengths drawn from N(s_k, s_k / 2) clipped at >= s_q (seeded), or all s_k. */
    record Config(String name, int b, int sq, int hq, int hkv, int sk, boolean causal, boolean varlen, boolean fp8, int[] lens) {
        double meanLen() {
            long t = 0;
            for (int l : lens) {
                t += l;
            }
            return (double) t / b;
        }

        double flops() {
            return (double) b * hq * sq * (2.0 * D * meanLen() + 2.0 * meanLen() * DV);
        }

        double bytes() {
            int kvBytes = fp8 ? 1 : 2;
            double scales = fp8 ? (D + 127) / 128 * 4.0 : 0;
            return b * (sq * hq * D * 2.0 + meanLen() * hkv * (D * kvBytes + scales) + sq * hq * DV * 2.0);
        }
    }

    private MlaBenchmarks() {}

    static List<Config> configs() {
        List<Config> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(20261129);
        for (int sq : new int[] {1, 2}) {
            for (int sk : new int[] {4096, 8192, 16384, 32768}) {
                for (boolean causal : sq == 1 ? new boolean[] {false} : new boolean[] {false, true}) {
                    int[] lens = new int[128];
                    for (int i = 0; i < lens.length; i++) {
                        lens[i] = (int) Math.max(sq, Math.round(sk + r.nextGaussian() * sk / 2.0));
                    }
                    out.add(new Config(String.format(Locale.ROOT, "b128 hq128 sq%d sk%d%s", sq, sk, causal ? " causal" : ""),
                            128, sq, 128, 1, sk, causal, true, false, lens));
                }
            }
        }
        for (boolean fp8 : new boolean[] {false, true}) {
            for (int b : new int[] {64, 128}) {
                for (int sk : new int[] {8192, 32768}) {
                    for (int hq : new int[] {16, 32, 64}) {
                        int[] lens = new int[b];
                        java.util.Arrays.fill(lens, sk);
                        out.add(new Config(String.format(Locale.ROOT, "b%d hq%d sq1 sk%d%s", b, hq, sk, fp8 ? " fp8" : ""),
                                b, 1, hq, 1, sk, false, false, fp8, lens));
                    }
                }
            }
        }
        return out;
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        ObjectMapper json = new ObjectMapper();
        List<Config> configs = configs();
        if (opt.containsKey("--only")) { // configurations whose name contains this text (profiling runs)
            String only = opt.get("--only");
            configs.removeIf(c -> !c.name().contains(only));
        }
        if (opt.containsKey("--configs-out")) {
            ArrayNode arr = json.createArrayNode();
            for (Config c : configs) {
                if (c.fp8()) {
                    continue; // the peer has no FP8 cache
                }
                ObjectNode n = arr.addObject();
                n.put("name", c.name()).put("b", c.b()).put("s_q", c.sq()).put("h_q", c.hq()).put("h_kv", c.hkv())
                        .put("d", D).put("dv", DV).put("page", PAGE).put("causal", c.causal());
                ArrayNode l = n.putArray("seqlens");
                for (int x : c.lens()) {
                    l.add(x);
                }
            }
            json.writeValue(new File(opt.get("--configs-out")), arr);
            System.out.println("configs written: " + arr.size());
            return;
        }
        Map<String, Double> peer = new HashMap<>();
        if (opt.containsKey("--peer-json") && !new File(opt.get("--peer-json")).isFile()) {
            System.out.println("no peer results at " + opt.get("--peer-json") + ": timing infra4j alone");
        } else if (opt.containsKey("--peer-json")) {
            for (JsonNode n : json.readTree(new File(opt.get("--peer-json"))).get("results")) {
                if (n.has("ms")) {
                    peer.put(n.get("name").asText(), n.get("ms").asDouble());
                }
            }
        }
        Cuda.requireAvailable();
        CudaDevice gpu = Cuda.device(0);
        Device dev = Device.cuda(0);
        ResultTable table = new ResultTable("MLA decode, d=576, dv=512, page 64, h_kv=1 (median of 20, L2 flushed)",
                "config", "kv", "mean s_k", "ms", "TFLOPS", "TB/s", "peer ms", "speed-up vs peer", "target");
        Map<String, Double> bf16Ms = new HashMap<>();
        try (CudaStream stream = CudaStream.create(gpu); GpuBench bench = GpuBench.open(dev, stream, new GpuBench.Options(5, 20, true))) {
            for (Config c : configs) {
                double ms;
                double hostMs;
                try {
                    GpuTiming t = time(c, dev, stream, bench);
                    ms = t.medianMs();
                    hostMs = t.hostMedianMs();
                } catch (RuntimeException | OutOfMemoryError e) {
                    System.out.println(c.name() + ": failed: " + e);
                    continue;
                }
                double tflops = c.flops() / ms / 1e9;
                double tbs = c.bytes() / ms / 1e9;
                Double p = peer.get(c.name());
                String target = target(c, tflops, tbs, bf16Ms, ms);
                if (!c.fp8()) {
                    bf16Ms.put(c.name(), ms);
                }
                table.row(c.name(), c.fp8() ? "fp8" : "bf16", Math.round(c.meanLen()), round(ms), round(tflops), round(tbs),
                        p == null ? "" : round(p), p == null ? "" : round(p / ms), target);
                System.out.printf(Locale.ROOT, "%-30s %8.3f ms %7.1f TFLOPS %5.2f TB/s peer %s  %s  (host %.1f us to queue)%n", c.name(),
                        ms, tflops, tbs, p == null ? "-" : String.format(Locale.ROOT, "%.3f ms", p), target, hostMs * 1e3);
            }
        }
        Path md = new ResultsWriter("flashmla", "MLA decode (infra4j kernel vs PyTorch)")
                .environment("GPU", gpu.name())
                .environment("driver", opt.getOrDefault("--driver", "?"))
                .environment("commit", opt.getOrDefault("--commit", "?"))
                .environment("kernel", System.getenv().getOrDefault("INFRA4J_MLA_KERNEL", "wgmma") + " (INFRA4J_MLA_KERNEL)")
                .table(table)
                .appendTo(Path.of(opt.getOrDefault("--out", "benchmarks/results")));
        System.out.println("results appended to " + md);
    }

    /** The targets, and whether this run meets them. */
    private static String target(Config c, double tflops, double tbs, Map<String, Double> bf16Ms, double ms) {
        if (c.fp8()) {
            Double bf = bf16Ms.get(c.name().replace(" fp8", ""));
            if (bf == null) {
                return "";
            }
            double ratio = bf / ms;
            return String.format(Locale.ROOT, "%.2fx bf16 tokens/s (>= 1.6x: %s)", ratio, ratio >= 1.6 ? "met" : "not met");
        }
        if (c.hq() == 128 && c.sq() == 2) {
            return ">= 730 TFLOPS: " + (tflops >= 730 ? "met" : "not met");
        }
        if (c.hq() == 128 && c.sq() == 1 && c.sk() >= 16384) {
            return ">= 680 TFLOPS: " + (tflops >= 680 ? "met" : "not met");
        }
        if (c.hq() < 128 && c.sk() == 32768) {
            return ">= 4.2 TB/s: " + (tbs >= 4.2 ? "met" : "not met");
        }
        if (c.hq() < 128 && c.sk() == 8192) {
            return ">= 3.8 TB/s: " + (tbs >= 3.8 ? "met" : "not met");
        }
        return "";
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** Builds the inputs on the device ({@link MlaInputs}), plans once, times the decodes. */
    static GpuTiming time(Config c, Device dev, CudaStream stream, GpuBench bench) {
        try (TensorScope scope = TensorScope.open(stream)) {
            MlaInputs in = MlaInputs.random(scope, dev, stream, c.name().hashCode(), c.sq(), c.hq(), c.hkv(), PAGE, c.lens(),
                    c.fp8());
            return in.time(bench, c.name(), MlaOptions.defaults().withCausal(c.causal()), stream).timing();
        }
    }
}

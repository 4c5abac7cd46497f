package io.infra4j.integration;

import static io.infra4j.integration.GpuTestSupport.GPU;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.MemoryKind;
import io.infra4j.memory.Storage;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.threefs.CheckpointLoader;
import io.infra4j.threefs.LoadedCheckpoint;
import io.infra4j.threefs.ParallelFileReader;
import io.infra4j.threefs.SafetensorsWriter;
import io.infra4j.threefs.Usrbio;
import io.infra4j.threefs.UsrbioException;
import io.infra4j.threefs.UsrbioIov;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Safetensors checkpoints loaded to cuda:0 through the io_uring USRBIO backend and page-locked iovs, each
 * tensor copied back to the host and compared byte for byte with what was written.
 */
@GpuTest
class CheckpointLoaderGpuTest {
    static final List<String> KINDS = List.of(Storage.trackerKind(MemoryKind.DEVICE), Storage.trackerKind(MemoryKind.HOST),
            "cuda-stream", "cuda-event", UsrbioIov.RESOURCE_KIND);

    @TempDir
    Path dir;
    Set<Long> before;

    /** Skipped, saying why, where the io_uring backend cannot load or io_uring is refused (a container's seccomp, say). */
    @BeforeAll
    static void needsTheEmbeddedBackend(@TempDir Path tmp) {
        Assumptions.assumeTrue(Usrbio.isEmbeddedAvailable(), "the io_uring USRBIO backend: " + Usrbio.embeddedUnavailableReason());
        try (ParallelFileReader r = ParallelFileReader.open(tmp, new ParallelFileReader.Options(1, 2, 4096, false))) {
            assertEquals(1, r.iovs().size());
        } catch (UsrbioException e) {
            Assumptions.abort("io_uring is not usable here: " + e.getMessage());
        }
    }

    @BeforeEach
    void remember() {
        before = live();
    }

    @AfterEach
    void nothingLeaks() {
        Set<Long> now = live();
        now.removeAll(before);
        assertEquals(Set.of(), now, "left open: " + ResourceTracker.live().stream().filter(e -> now.contains(e.id())).toList());
    }

    static Set<Long> live() {
        return KINDS.stream().flatMap(k -> ResourceTracker.live(k).stream()).map(ResourceTracker.Entry::id).collect(Collectors.toSet());
    }

    record Want(DType dtype, long[] shape, byte[] bytes) {}

    static Want random(SplittableRandom r, DType dtype, long... shape) {
        long n = dtype.byteSize();
        for (long s : shape) {
            n *= s;
        }
        byte[] b = new byte[Math.toIntExact(n)];
        r.nextBytes(b);
        return new Want(dtype, shape, b);
    }

    Path write(String name, Map<String, Want> tensors) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        tensors.forEach((n, t) -> w.add(n, t.dtype(), t.shape(), t.bytes()));
        Path p = dir.resolve(name);
        w.write(p);
        return p;
    }

    /** Copies every device tensor back and compares its bytes with what was written. */
    static void assertLoaded(Map<String, Want> want, LoadedCheckpoint got, CudaStream stream) {
        assertEquals(List.copyOf(want.keySet()), List.copyOf(got.tensors().keySet()), "names in file order");
        for (var e : want.entrySet()) {
            Tensor t = got.tensor(e.getKey());
            Want w = e.getValue();
            assertEquals(w.dtype(), t.dtype(), e.getKey());
            assertArrayEquals(w.shape(), t.shape(), e.getKey());
            assertEquals(GPU, t.device(), e.getKey());
            try (Tensor h = Tensor.empty(t.dtype(), Device.CPU, t.shape())) {
                TensorOps.copy(t, h, stream);
                stream.synchronize();
                byte[] b = h.segment().toArray(ValueLayout.JAVA_BYTE);
                if (!Arrays.equals(w.bytes(), b)) {
                    throw new AssertionError(e.getKey() + ": the loaded bytes differ from the file's, first at byte "
                            + Arrays.mismatch(w.bytes(), b) + " of " + w.bytes().length);
                }
            }
        }
    }

    /** About 200 MB in several dtypes, with small, empty and scalar tensors among the large ones. */
    static Map<String, Want> large(SplittableRandom r) {
        Map<String, Want> want = new LinkedHashMap<>();
        want.put("model.embed_tokens.weight", random(r, DType.BF16, 16_384, 2_048));       // 64 MiB
        for (int layer = 0; layer < 4; layer++) {
            String p = "model.layers." + layer + ".";
            want.put(p + "input_layernorm.weight", random(r, DType.F32, 2_048));
            want.put(p + "mlp.up_proj.weight", random(r, DType.F8_E4M3, 5_632, 2_048)); // 11 MiB
            want.put(p + "mlp.up_proj.scale", random(r, DType.F32, 44, 16));
            want.put(p + "mlp.down_proj.weight", random(r, DType.F8_E5M2, 2_048, 5_632));
            want.put(p + "self_attn.o_proj.weight", random(r, DType.F16, 2_048, 1_024 + layer)); // 4 MiB, odd sizes
            want.put(p + "steps", random(r, DType.I64));
            want.put(p + "mask", random(r, DType.BOOL, 0));
        }
        want.put("lm_head.weight", random(r, DType.F32, 4_096, 2_048 + 3));                // 32 MiB
        want.put("ids", random(r, DType.I32, 1_000_001));
        want.put("tail", random(r, DType.U8, 7));
        want.put("i8", random(r, DType.I8, 3, 5));
        return want;
    }

    @Test
    void aLargeCheckpointArrivesWholeOnTheGpu() throws IOException {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("checkpoint 200 MB"));
        Map<String, Want> want = large(r);
        Path p = write("large.safetensors", want);
        try (CudaStream stream = CudaStream.create(Cuda.device(0))) {
            // The defaults (1 MiB chunks), then small chunks that cycle each iov's halves hundreds of times.
            for (CheckpointLoader.Options o : List.of(CheckpointLoader.Options.defaults(), new CheckpointLoader.Options(4, 4, 64 << 10, null))) {
                AtomicLong progress = new AtomicLong();
                try (LoadedCheckpoint c = CheckpointLoader.load(p, GPU, stream, o.withProgress(progress::addAndGet))) {
                    System.out.printf("checkpoint: %d MB, %d tensors to %s in %.3f s (%.3f s reading), %.2f GB/s; %s%n",
                            c.bytes() / 1_000_000, c.tensors().size(), GPU, c.seconds(), c.readSeconds(), c.gigabytesPerSecond(), o);
                    assertEquals(c.bytes(), progress.get(), "progress hears of every byte");
                    assertTrue(c.bytes() > 190_000_000, "about 200 MB: " + c.bytes());
                    assertLoaded(want, c, stream);
                }
            }
            stream.synchronize();
        }
    }

    @Test
    void aSmallCheckpointOfEveryDTypeLoadsOnTheDefaultStream() throws IOException {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("checkpoint small"));
        Map<String, Want> want = new LinkedHashMap<>();
        long[][] shapes = {{}, {0}, {1}, {3, 0, 2}, {13, 5}, {2, 3, 5, 7}, {4_097}};
        for (DType d : DType.values()) {
            for (long[] s : shapes) {
                want.put(d.name() + Arrays.toString(s), random(r, d, s));
            }
        }
        Path p = write("small.safetensors", want);
        CudaStream legacy = CudaStream.legacyDefault();
        try (LoadedCheckpoint c = CheckpointLoader.load(p, GPU, legacy, CheckpointLoader.Options.defaults())) {
            assertLoaded(want, c, legacy);
        }
        Cuda.synchronizeCurrentDevice();
    }

    @Test
    void aFailureMidwayLeavesNothingBehind() throws IOException {
        SplittableRandom r = new SplittableRandom(GpuTestSupport.freshSeed("checkpoint failure"));
        Map<String, Want> want = new LinkedHashMap<>();
        for (int i = 0; i < 16; i++) {
            want.put("w" + i, random(r, DType.BF16, 1 << 20));
        }
        Path p = write("fail.safetensors", want);
        AtomicLong seen = new AtomicLong();
        try (CudaStream stream = CudaStream.create(Cuda.device(0))) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> CheckpointLoader.load(p, GPU, stream,
                    new CheckpointLoader.Options(3, 4, 64 << 10, n -> {
                        if (seen.addAndGet(n) > 10_000_000) {
                            throw new IllegalStateException("stop here");
                        }
                    })));
            assertEquals("stop here", e.getMessage());
            stream.synchronize(); // the frees of the tensors, queued on this stream
        }
    }
}

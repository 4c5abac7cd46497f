package io.infra4j.threefs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.infra4j.memory.DType;
import io.infra4j.memory.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a safetensors file: tensors in the order they were added, packed one after another, the JSON
 * header padded with spaces to a multiple of 8 bytes (so that the data area starts 8-byte aligned, as the
 * reference implementation does). The bytes of each tensor come from an array, a segment (read when
 * {@link #write} runs, so it must stay valid until then) or a {@link Generator} that produces them in
 * pieces (for checkpoints larger than memory).
 */
public final class SafetensorsWriter {
    /** Produces a tensor's bytes piece by piece, in order: fills {@code piece} with bytes from {@code offset} on. */
    @FunctionalInterface
    public interface Generator {
        void fill(long offset, MemorySegment piece);
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PIECE = 8 << 20;

    private record Pending(String name, DType dtype, long[] shape, long bytes, MemorySegment data, Generator generator) {}

    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a tensor whose little-endian, row-major bytes are {@code data}. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
        if (data == null) {
            throw new IllegalArgumentException("data: expected the tensor's bytes, got null");
        }
        return add(name, dtype, shape, MemorySegment.ofArray(data));
    }

    /** Adds a tensor whose bytes are {@code data} (heap or native; read when {@link #write} runs). */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment data) {
        if (data == null) {
            throw new IllegalArgumentException("data: expected the tensor's bytes, got null");
        }
        long bytes = check(name, dtype, shape);
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException("tensor '" + name + "': " + dtype + Arrays.toString(shape) + " is " + bytes
                    + " bytes, got " + data.byteSize());
        }
        tensors.add(new Pending(name, dtype, shape.clone(), bytes, data, null));
        names.add(name);
        return this;
    }

    /** Adds a dense host tensor (its dtype, shape and bytes; read when {@link #write} runs). */
    public SafetensorsWriter add(String name, Tensor hostTensor) {
        if (hostTensor == null || !hostTensor.device().isCpu() || !hostTensor.isContiguous()) {
            throw new IllegalArgumentException("tensor '" + name + "': expected a contiguous host tensor, got " + hostTensor);
        }
        return add(name, hostTensor.dtype(), hostTensor.shape(), hostTensor.segment());
    }

    /** Adds a tensor whose bytes {@code generator} produces when {@link #write} runs. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, Generator generator) {
        if (generator == null) {
            throw new IllegalArgumentException("generator: expected one, got null");
        }
        long bytes = check(name, dtype, shape);
        tensors.add(new Pending(name, dtype, shape.clone(), bytes, null, generator));
        names.add(name);
        return this;
    }

    /** Adds a {@code __metadata__} entry. */
    public SafetensorsWriter metadata(String key, String value) {
        if (key == null || value == null) {
            throw new IllegalArgumentException("metadata: expected a key and a value, got " + key + ", " + value);
        }
        metadata.put(key, value);
        return this;
    }

    private long check(String name, DType dtype, long[] shape) {
        if (name == null || name.isEmpty() || name.equals("__metadata__")) {
            throw new IllegalArgumentException("name: expected a non-empty name other than __metadata__, got " + name);
        }
        if (names.contains(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' was already added");
        }
        if (dtype == null || shape == null) {
            throw new IllegalArgumentException("tensor '" + name + "': expected a dtype and a shape, got " + dtype + ", "
                    + Arrays.toString(shape));
        }
        long n = 1;
        try {
            for (long s : shape) {
                if (s < 0) {
                    throw new IllegalArgumentException("tensor '" + name + "': sizes must be >= 0, got " + Arrays.toString(shape));
                }
                n = Math.multiplyExact(n, s);
            }
            return Math.multiplyExact(n, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor '" + name + "': " + Arrays.toString(shape) + " overflows 2^63 bytes");
        }
    }

    /** The header's JSON, padded with spaces to a multiple of 8 bytes. */
    byte[] headerJson() {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long at = 0;
        for (Pending t : tensors) {
            ObjectNode o = root.putObject(t.name());
            o.put("dtype", t.dtype().name());
            ArrayNode s = o.putArray("shape");
            for (long d : t.shape()) {
                s.add(d);
            }
            o.putArray("data_offsets").add(at).add(at + t.bytes());
            at += t.bytes();
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Writes the file (replacing one that exists); returns its size in bytes. */
    public long write(Path file) throws IOException {
        byte[] json = headerJson();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
             Arena arena = Arena.ofConfined()) {
            ByteBuffer head = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(json.length).put(json).flip();
            long at = writeFully(ch, head, 0);
            MemorySegment staging = null;
            for (Pending t : tensors) {
                if (t.data() != null) {
                    for (long off = 0; off < t.bytes(); off += PIECE) {
                        MemorySegment piece = t.data().asSlice(off, Math.min(PIECE, t.bytes() - off));
                        at = writeFully(ch, piece.asByteBuffer(), at);
                    }
                } else {
                    if (staging == null) {
                        staging = arena.allocate(PIECE);
                    }
                    for (long off = 0; off < t.bytes(); off += PIECE) {
                        MemorySegment piece = staging.asSlice(0, Math.min(PIECE, t.bytes() - off));
                        t.generator().fill(off, piece);
                        at = writeFully(ch, piece.asByteBuffer(), at);
                    }
                }
            }
            return at;
        }
    }

    private static long writeFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
        while (buf.hasRemaining()) {
            at += ch.write(buf, at);
        }
        return at;
    }
}

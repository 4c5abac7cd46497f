package io.infra4j.threefs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.infra4j.memory.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The header of a safetensors file, parsed and checked: an 8-byte little-endian length N, N bytes of
 * UTF-8 JSON mapping each tensor's name to its dtype, shape and {@code data_offsets} (relative to the
 * first byte after the header), and an optional {@code __metadata__} object of strings.
 *
 * <p>Every number is checked before it is used, and a file that fails a check is rejected with an
 * {@link IllegalArgumentException} naming the file and the tensor: a header length of 0, over
 * {@link #MAX_HEADER_BYTES} or past the file's end; JSON that is not an object (bad syntax, a duplicate
 * key, trailing content); a dtype infra4j has no {@link DType} for; a shape whose byte size is not the
 * length of its offsets; offsets outside the data area; tensors that overlap, leave a hole between them or
 * do not reach the end of the file (the format requires the tensors to tile the data area exactly).
 */
public final class SafetensorsHeader {
    /** The largest header accepted (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    /** Safetensors dtypes that exist but have no infra4j {@link DType}: named as such in the error. */
    private static final Set<String> OTHER_SAFETENSORS_DTYPES = Set.of("F64", "I16", "U16", "U32", "U64", "C64",
            "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4");

    // Duplicate keys would let two tensors alias (the last would silently win): reject them; likewise text after the object.
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /**
     * One tensor of the file.
     *
     * @param begin first byte, relative to {@link #dataStart()}
     * @param end   one past the last byte, relative to {@link #dataStart()}
     */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        public Entry {
            shape = shape.clone();
        }

        /** A copy of the shape ({@code []} for a scalar). */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** Bytes of data: {@code end - begin}. */
        public long byteSize() {
            return end - begin;
        }

        public long numel() {
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && name.equals(e.name) && dtype == e.dtype && Arrays.equals(shape, e.shape)
                    && begin == e.begin && end == e.end;
        }

        @Override
        public int hashCode() {
            return (name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape) + Long.hashCode(begin);
        }

        @Override
        public String toString() {
            return name + ": " + dtype + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
        }
    }

    private final Path file;
    private final long headerBytes;
    private final long fileBytes;
    private final List<Entry> entries;
    private final Map<String, Entry> byName;
    private final Map<String, String> metadata;

    private SafetensorsHeader(Path file, long headerBytes, long fileBytes, List<Entry> entries, Map<String, String> metadata) {
        this.file = file;
        this.headerBytes = headerBytes;
        this.fileBytes = fileBytes;
        this.entries = List.copyOf(entries);
        Map<String, Entry> m = new LinkedHashMap<>();
        for (Entry e : entries) {
            m.put(e.name(), e);
        }
        this.byName = Collections.unmodifiableMap(m);
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** Reads and checks the header of {@code file}. */
    public static SafetensorsHeader read(Path file) throws IOException {
        if (file == null) {
            throw new IllegalArgumentException("file: expected a safetensors file, got null");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw bad(file, "the file has " + size + " bytes, fewer than the 8 of the header length");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0, file);
            long n = len.getLong(0);
            if (n == 0) {
                throw bad(file, "the header length is 0");
            }
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw bad(file, "the header length " + Long.toUnsignedString(n) + " is over the limit of " + MAX_HEADER_BYTES + " bytes");
            }
            if (8 + n > size) {
                throw bad(file, "the header length " + n + " runs past the end of the file (" + size + " bytes)");
            }
            ByteBuffer json = ByteBuffer.allocate((int) n);
            readFully(ch, json, 8, file);
            return parse(file, json.array(), size - 8 - n);
        }
    }

    /**
     * Checks the JSON of a header whose data area has {@code dataBytes} bytes; {@code file} only names the
     * source in messages (may be null).
     */
    public static SafetensorsHeader parse(Path file, byte[] json, long dataBytes) {
        if (json == null || json.length == 0) {
            throw bad(file, "the header length is 0");
        }
        if (dataBytes < 0) {
            throw new IllegalArgumentException("dataBytes: expected at least 0, got " + dataBytes);
        }
        // The reference implementation also insists on '{' first: it rules out byte-order marks and other encodings.
        if (json[0] != '{') {
            throw bad(file, "the header does not start with '{' (byte 0x" + Integer.toHexString(json[0] & 0xFF) + ")");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw bad(file, "the header is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw bad(file, "the header cannot be read as JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "the header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw bad(file, "__metadata__ is not an object of strings");
                }
                for (Map.Entry<String, JsonNode> kv : v.properties()) {
                    if (!kv.getValue().isTextual()) {
                        throw bad(file, "__metadata__ '" + kv.getKey() + "' is not a string (" + kv.getValue().getNodeType() + ")");
                    }
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            entries.add(entry(file, name, v, dataBytes));
        }
        // File order; an empty tensor sorts before a tensor that starts where it is.
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        Entry previous = null;
        for (Entry e : entries) {
            if (e.begin() < at) {
                throw bad(file, "tensor '" + e.name() + "' [" + e.begin() + ", " + e.end() + ") overlaps tensor '" + previous.name()
                        + "' [" + previous.begin() + ", " + previous.end() + ")");
            }
            if (e.begin() > at) {
                throw bad(file, "tensor '" + e.name() + "' begins at " + e.begin() + ", leaving a hole of " + (e.begin() - at)
                        + " bytes after " + (previous == null ? "the header" : "tensor '" + previous.name() + "' (ends at " + at + ")"));
            }
            at = e.end();
            previous = e;
        }
        if (at != dataBytes) {
            throw bad(file, "the tensors cover " + at + " of the " + dataBytes + " bytes of data"
                    + (previous == null ? "" : " (the last, '" + previous.name() + "', ends at " + at + ")"));
        }
        return new SafetensorsHeader(file, json.length, 8L + json.length + dataBytes, entries, metadata);
    }

    private static Entry entry(Path file, String name, JsonNode v, long dataBytes) {
        String what = "tensor '" + name + "'";
        if (!v.isObject()) {
            throw bad(file, what + " is not an object with dtype, shape and data_offsets");
        }
        JsonNode dt = v.get("dtype");
        JsonNode sh = v.get("shape");
        JsonNode off = v.get("data_offsets");
        if (dt == null || sh == null || off == null) {
            throw bad(file, what + " lacks " + (dt == null ? "dtype" : sh == null ? "shape" : "data_offsets"));
        }
        if (!dt.isTextual()) {
            throw bad(file, what + ": dtype is not a string");
        }
        DType dtype = dtype(file, what, dt.textValue());
        if (!sh.isArray()) {
            throw bad(file, what + ": shape is not an array");
        }
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(file, what + ": shape[" + i + "]", sh.get(i));
        }
        if (!off.isArray() || off.size() != 2) {
            throw bad(file, what + ": data_offsets is not an array of two numbers");
        }
        long begin = nonNegativeLong(file, what + ": data_offsets[0]", off.get(0));
        long end = nonNegativeLong(file, what + ": data_offsets[1]", off.get(1));
        if (end < begin) {
            throw bad(file, what + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataBytes) {
            throw bad(file, what + ": data_offsets [" + begin + ", " + end + "] run outside the data area of " + dataBytes + " bytes");
        }
        long bytes;
        try {
            long n = 1;
            for (long s : shape) {
                n = Math.multiplyExact(n, s);
            }
            bytes = Math.multiplyExact(n, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw bad(file, what + ": shape " + Arrays.toString(shape) + " of " + dtype + " overflows 2^63 bytes");
        }
        if (bytes != end - begin) {
            throw bad(file, what + ": shape " + Arrays.toString(shape) + " of " + dtype + " is " + bytes + " bytes, but data_offsets ["
                    + begin + ", " + end + "] hold " + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static DType dtype(Path file, String what, String name) {
        try {
            return DType.valueOf(name); // infra4j's names are safetensors' names
        } catch (IllegalArgumentException e) {
            String supported = Arrays.toString(DType.values());
            if (OTHER_SAFETENSORS_DTYPES.contains(name)) {
                throw bad(file, what + ": dtype " + name + " has no infra4j DType (supported: " + supported + ")");
            }
            throw bad(file, what + ": unknown dtype '" + name + "' (supported: " + supported + ")");
        }
    }

    private static long nonNegativeLong(Path file, String what, JsonNode n) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0) {
            throw bad(file, what + " is not an integer in [0, 2^63): " + n);
        }
        return n.longValue();
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long at, Path file) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf, at + buf.position()) < 0) {
                throw bad(file, "the file ended while reading its header");
            }
        }
    }

    private static IllegalArgumentException bad(Path file, String problem) {
        return new IllegalArgumentException((file == null ? "safetensors header" : file.toString()) + ": " + problem);
    }

    /** The file read, or null for a header given by {@link #parse}. */
    public Path file() {
        return file;
    }

    /** The tensors, in the order of their data in the file. */
    public List<Entry> entries() {
        return entries;
    }

    /** The tensor called {@code name}; IllegalArgumentException when there is none. */
    public Entry entry(String name) {
        Entry e = byName.get(name);
        if (e == null) {
            throw new IllegalArgumentException((file == null ? "" : file + ": ") + "no tensor '" + name + "' (" + entries.size()
                    + " tensors)");
        }
        return e;
    }

    /** Whether there is a tensor called {@code name}. */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The {@code __metadata__} strings, in header order; empty when there are none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Bytes of JSON (N). */
    public long headerBytes() {
        return headerBytes;
    }

    /** Offset in the file of the data area: 8 + N. */
    public long dataStart() {
        return 8 + headerBytes;
    }

    /** Bytes of tensor data: the sum of every tensor's bytes. */
    public long dataBytes() {
        return fileBytes - dataStart();
    }

    /** Offset in the file of the tensor's first byte. */
    public long fileOffset(Entry e) {
        return dataStart() + e.begin();
    }

    @Override
    public String toString() {
        return "SafetensorsHeader(" + (file == null ? "" : file + ", ") + entries.size() + " tensors, " + dataBytes() + " bytes of data)";
    }
}

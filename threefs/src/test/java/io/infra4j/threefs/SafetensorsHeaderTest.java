package io.infra4j.threefs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.memory.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SafetensorsHeader: what a good header yields, and a clear rejection of each kind of bad one. */
class SafetensorsHeaderTest {
    @TempDir
    Path dir;

    /** A file of an 8-byte length (as given), then {@code header}, then {@code dataBytes} zero bytes. */
    Path raw(String name, long declaredLength, byte[] header, long dataBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + (int) dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    Path file(String json, long dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return raw("t.safetensors", h.length, h, dataBytes);
    }

    /** Asserts that reading fails with a message that names the file and contains every fragment. */
    void rejects(Path p, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafetensorsHeader.read(p));
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), "names the file: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
        }
    }

    @Test
    void aGoodHeaderGivesEntriesInFileOrderAndTheMetadata() throws IOException {
        // Header order differs from file order; an empty tensor and a scalar too.
        Path p = file("""
                {"b": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [16, 28]},
                 "__metadata__": {"format": "pt", "step": "12"},
                 "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                 "empty": {"dtype": "I64", "shape": [0, 5], "data_offsets": [28, 28]},
                 "s": {"dtype": "I32", "shape": [], "data_offsets": [28, 32], "extra": "ignored"}}  \
                """, 32);
        SafetensorsHeader h = SafetensorsHeader.read(p);
        assertEquals(List.of("a", "b", "empty", "s"), h.entries().stream().map(SafetensorsHeader.Entry::name).toList());
        assertEquals(Map.of("format", "pt", "step", "12"), h.metadata());
        assertEquals(DType.BF16, h.entry("b").dtype());
        assertArrayEquals(new long[] {2, 3}, h.entry("b").shape());
        assertArrayEquals(new long[] {}, h.entry("s").shape());
        assertEquals(1, h.entry("s").numel());
        assertEquals(0, h.entry("empty").byteSize());
        assertEquals(Files.size(p) - 32, h.dataStart());
        assertEquals(32, h.dataBytes());
        assertEquals(h.dataStart() + 16, h.fileOffset(h.entry("b")));
        assertTrue(h.contains("a"));
        assertThrows(IllegalArgumentException.class, () -> h.entry("nope"));
    }

    @Test
    void onlyMetadataOrNothingAtAllIsAnEmptyCheckpoint() throws IOException {
        assertEquals(0, SafetensorsHeader.read(file("{}", 0)).entries().size());
        SafetensorsHeader h = SafetensorsHeader.read(file("{\"__metadata__\": {}}", 0));
        assertEquals(0, h.entries().size());
        assertEquals(0, h.dataBytes());
    }

    @Test
    void everyDTypeNameIsKnown() throws IOException {
        for (DType d : DType.values()) {
            SafetensorsHeader h = SafetensorsHeader.read(file("{\"x\": {\"dtype\": \"" + d.name() + "\", \"shape\": [3], \"data_offsets\": [0, "
                    + 3 * d.byteSize() + "]}}", 3L * d.byteSize()));
            assertEquals(d, h.entry("x").dtype());
        }
    }

    @Test
    void headerLengthZeroTooLargeOrPastTheEndIsRejected() throws IOException {
        rejects(raw("zero", 0, new byte[0], 16), "header length is 0");
        rejects(raw("huge", (100L << 20) + 1, "{}".getBytes(StandardCharsets.UTF_8), 0), "over the limit");
        rejects(raw("negative", -1, "{}".getBytes(StandardCharsets.UTF_8), 0), "18446744073709551615", "over the limit");
        rejects(raw("past", 500, "{}".getBytes(StandardCharsets.UTF_8), 10), "past the end of the file");
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[5]);
        rejects(tiny, "fewer than the 8");
    }

    @Test
    void badJsonIsRejected() throws IOException {
        rejects(file("{\"a\": {\"dtype\": \"F32\",", 0), "not valid JSON");
        rejects(file("[1, 2]", 0), "does not start with '{'");
        rejects(file("{} {}", 0), "not valid JSON");
        rejects(file("{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]},"
                + " \"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [1, 2]}}", 2), "not valid JSON", "a");
        byte[] badUtf8 = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        rejects(raw("utf8", badUtf8.length, badUtf8, 0), "JSON");
        rejects(file("{\"a\": 3}", 0), "tensor 'a'", "not an object");
        rejects(file("{\"a\": {\"dtype\": \"U8\", \"shape\": [1]}}", 1), "tensor 'a'", "lacks data_offsets");
        rejects(file("{\"__metadata__\": {\"n\": 3}}", 0), "__metadata__ 'n'", "not a string");
        rejects(file("{\"__metadata__\": [\"x\"]}", 0), "__metadata__");
    }

    @Test
    void unknownDTypesAreRejected() throws IOException {
        rejects(file("{\"w\": {\"dtype\": \"F99\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4), "tensor 'w'", "unknown dtype 'F99'");
        rejects(file("{\"w\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8), "tensor 'w'", "F64 has no infra4j DType");
        rejects(file("{\"w\": {\"dtype\": \"f32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4), "tensor 'w'", "unknown dtype");
        rejects(file("{\"w\": {\"dtype\": 7, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4), "tensor 'w'", "dtype is not a string");
    }

    @Test
    void aShapeThatDoesNotMatchItsBytesIsRejected() throws IOException {
        rejects(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}", 20), "tensor 'w'", "24 bytes",
                "hold 20");
        rejects(file("{\"w\": {\"dtype\": \"F16\", \"shape\": [], \"data_offsets\": [0, 4]}}", 4), "tensor 'w'", "2 bytes");
        rejects(file("{\"w\": {\"dtype\": \"U8\", \"shape\": [-1], \"data_offsets\": [0, 0]}}", 0), "tensor 'w'", "shape[0]");
        rejects(file("{\"w\": {\"dtype\": \"U8\", \"shape\": [1.5], \"data_offsets\": [0, 0]}}", 0), "tensor 'w'", "shape[0]");
        rejects(file("{\"w\": {\"dtype\": \"U8\", \"shape\": 4, \"data_offsets\": [0, 4]}}", 4), "tensor 'w'", "shape is not an array");
        rejects(file("{\"w\": {\"dtype\": \"I64\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 0]}}", 0), "tensor 'w'",
                "overflows");
        rejects(file("{\"w\": {\"dtype\": \"U8\", \"shape\": [99999999999999999999], \"data_offsets\": [0, 0]}}", 0), "tensor 'w'",
                "shape[0]");
    }

    @Test
    void offsetsOutsideTheDataAreaAreRejected() throws IOException {
        rejects(file("{\"w\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [4, 12]}}", 8), "tensor 'w'", "outside the data area");
        rejects(file("{\"w\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [9, 9]}}", 8), "tensor 'w'", "outside the data area");
        rejects(file("{\"w\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [8, 4]}}", 8), "tensor 'w'", "end before they begin");
        rejects(file("{\"w\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [-4, 0]}}", 8), "tensor 'w'", "data_offsets[0]");
        rejects(file("{\"w\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4, 8]}}", 8), "tensor 'w'", "two numbers");
    }

    @Test
    void overlapsHolesAndUncoveredBytesAreRejected() throws IOException {
        rejects(file("{\"a\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [0, 8]},"
                + " \"b\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [4, 12]}}", 12), "tensor 'b'", "overlaps tensor 'a'");
        rejects(file("{\"a\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [0, 8]},"
                + " \"b\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [0, 8]}}", 8), "overlaps");
        rejects(file("{\"a\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [0, 8]},"
                + " \"e\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [3, 3]}}", 8), "tensor 'e'", "overlaps tensor 'a'");
        rejects(file("{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]},"
                + " \"b\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [6, 10]}}", 10), "tensor 'b'", "hole of 2 bytes",
                "tensor 'a'");
        rejects(file("{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [2, 6]}}", 6), "tensor 'a'", "hole of 2 bytes");
        rejects(file("{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]}}", 10), "cover 4 of the 10 bytes", "'a'");
    }

    @Test
    void theWritersHeaderReadsBack() throws IOException {
        Path p = dir.resolve("w.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .add("x", DType.F16, new long[] {3, 2}, new byte[12])
                .add("y", DType.BOOL, new long[] {}, new byte[1])
                .add("z", DType.U8, new long[] {0}, new byte[0])
                .write(p);
        SafetensorsHeader h = SafetensorsHeader.read(p);
        assertEquals(0, h.dataStart() % 8, "the data area starts 8-byte aligned");
        assertEquals(List.of(new SafetensorsHeader.Entry("x", DType.F16, new long[] {3, 2}, 0, 12),
                new SafetensorsHeader.Entry("y", DType.BOOL, new long[] {}, 12, 13),
                new SafetensorsHeader.Entry("z", DType.U8, new long[] {0}, 13, 13)), h.entries());
        assertEquals(Map.of("format", "pt"), h.metadata());
        assertEquals(Files.size(p), h.dataStart() + h.dataBytes());
    }
}

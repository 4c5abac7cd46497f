package io.infra4j.threefs;

import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

/**
 * The tensors of a checkpoint that {@link CheckpointLoader} loaded, by name in file order, with how long
 * it took. It owns the tensors: closing it closes them all (keep it open while they are in use).
 */
public final class LoadedCheckpoint implements AutoCloseable {
    private final Path file;
    private final Device device;
    private final SafetensorsHeader header;
    private final Map<String, Tensor> tensors;
    private final long nanos;
    private final long readNanos;
    private boolean closed;

    LoadedCheckpoint(Path file, Device device, SafetensorsHeader header, Map<String, Tensor> tensors, long nanos, long readNanos) {
        this.file = file;
        this.device = device;
        this.header = header;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.nanos = nanos;
        this.readNanos = readNanos;
    }

    public Path file() {
        return file;
    }

    public Device device() {
        return device;
    }

    public SafetensorsHeader header() {
        return header;
    }

    /** The file's {@code __metadata__}. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** Every tensor by name, in the order of the file (unmodifiable). */
    public Map<String, Tensor> tensors() {
        checkOpen();
        return tensors;
    }

    /** The tensor called {@code name}; IllegalArgumentException when there is none. */
    public Tensor tensor(String name) {
        checkOpen();
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(file + ": no tensor '" + name + "' (" + tensors.size() + " tensors)");
        }
        return t;
    }

    /** Bytes of tensor data loaded. */
    public long bytes() {
        return header.dataBytes();
    }

    /** Seconds from reading the header to the last copy's end, allocations included. */
    public double seconds() {
        return nanos / 1e9;
    }

    /** Seconds of reading and copying alone (the reader's run, through the last copy's end). */
    public double readSeconds() {
        return readNanos / 1e9;
    }

    /** {@link #bytes()} per {@link #seconds()}, in GB (10^9 bytes) per second. */
    public double gigabytesPerSecond() {
        return nanos == 0 ? 0 : bytes() / (double) nanos;
    }

    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this checkpoint is closed: " + file);
        }
    }

    /** Closes every tensor. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        for (Tensor t : tensors.values()) {
            try {
                t.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "LoadedCheckpoint(" + file + ", " + tensors.size() + " tensors, " + bytes() + " bytes on " + device + ")";
    }
}

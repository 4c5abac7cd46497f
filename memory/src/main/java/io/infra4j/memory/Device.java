package io.infra4j.memory;

import java.util.Locale;

/**
 * Where a tensor's bytes live: the host ({@link #CPU}) or one GPU ({@link #cuda(int)}).
 *
 * @param kind  CPU or CUDA
 * @param index the GPU ordinal, -1 for the CPU
 */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA }

    /** Host memory. */
    public static final Device CPU = new Device(Kind.CPU, -1);

    public Device {
        if (kind == null) {
            throw new IllegalArgumentException("kind: expected CPU or CUDA, got null");
        }
        if (kind == Kind.CPU && index != -1) {
            throw new IllegalArgumentException("index: the CPU device has index -1, got " + index);
        }
        if (kind == Kind.CUDA && index < 0) {
            throw new IllegalArgumentException("index: a CUDA device ordinal is >= 0, got " + index);
        }
    }

    /** GPU number {@code ordinal}. */
    public static Device cuda(int ordinal) {
        return new Device(Kind.CUDA, ordinal);
    }

    /** Parses {@code cpu}, {@code cuda} (GPU 0) or {@code cuda:N}. */
    public static Device parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("device: expected cpu, cuda or cuda:N, got null");
        }
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("cuda")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("device: expected cpu, cuda or cuda:N, got '" + text + "'");
    }

    public boolean isCuda() {
        return kind == Kind.CUDA;
    }

    public boolean isCpu() {
        return kind == Kind.CPU;
    }

    @Override
    public String toString() {
        return isCpu() ? "cpu" : "cuda:" + index;
    }
}

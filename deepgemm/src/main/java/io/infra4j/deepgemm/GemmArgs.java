package io.infra4j.deepgemm;

import io.infra4j.deepgemm.internal.GemmKind;
import io.infra4j.deepgemm.internal.GemmShape;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.util.Arrays;

/**
 * The checks of a GEMM's arguments, all in Java before any native call: each failure is an
 * {@link IllegalArgumentException} whose message starts with the argument's name and says what was
 * expected and what came.
 */
final class GemmArgs {
    private GemmArgs() {}

    /** Checks every operand of a GEMM of this kind and returns its sizes. */
    static GemmShape check(GemmKind kind, Fp8Tensor a, Fp8Tensor b, Tensor d, Tensor groupInfo, GemmOptions options) {
        if (a == null) {
            throw new IllegalArgumentException("a: expected an Fp8Tensor (Fp8Quant.perToken), got null");
        }
        if (b == null) {
            throw new IllegalArgumentException("b: expected an Fp8Tensor (Fp8Quant.perBlock), got null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options: expected GemmOptions (GemmOptions.on(stream)), got null");
        }
        open(a.values(), "a.values");
        open(a.scales(), "a.scales");
        open(b.values(), "b.values");
        open(b.scales(), "b.scales");
        open(d, "d");

        boolean masked = kind == GemmKind.MASKED;
        int aRank = masked ? 3 : 2;
        int bRank = kind == GemmKind.DENSE ? 2 : 3;
        rank(a.values(), "a.values", aRank, masked ? "[groups, m_max, k]" : "[m, k]");
        rank(b.values(), "b.values", bRank, bRank == 3 ? "[groups, n, k]" : "[n, k]");
        rank(d, "d", aRank, masked ? "[groups, m_max, n]" : "[m, n]");
        if (d.dtype() != DType.BF16) {
            throw new IllegalArgumentException("d: expected BF16, got " + d.dtype());
        }

        long[] as = a.values().shape();
        long[] bs = b.values().shape();
        long m = as[aRank - 2], k = as[aRank - 1];
        long n = bs[bRank - 2];
        long groups = bRank == 3 ? bs[0] : 1;
        if (k <= 0 || k % GemmShape.BLOCK != 0) {
            throw new IllegalArgumentException("a.values: k must be a positive multiple of 128, got k = " + k
                    + " (shape " + Arrays.toString(as) + ")");
        }
        if (bs[bRank - 1] != k) {
            throw new IllegalArgumentException("b.values: expected k = " + k + " (a's) as its last dimension, got shape "
                    + Arrays.toString(bs));
        }
        if (n <= 0 || n % 16 != 0) {
            throw new IllegalArgumentException("b.values: n must be a positive multiple of 16, got n = " + n);
        }
        if (groups < 1) {
            throw new IllegalArgumentException("b.values: expected at least one group, got shape " + Arrays.toString(bs));
        }
        if (masked && as[0] != groups) {
            throw new IllegalArgumentException("a.values: expected " + groups + " groups (b's), got shape " + Arrays.toString(as));
        }
        if (kind == GemmKind.CONTIGUOUS && m % GemmShape.BLOCK != 0) {
            throw new IllegalArgumentException("a.values: the contiguous layout pads each group to a multiple of 128 rows,"
                    + " so m must be one, got m = " + m);
        }
        long[] expectedD = masked ? new long[] {groups, m, n} : new long[] {m, n};
        if (!Arrays.equals(d.shape(), expectedD)) {
            throw new IllegalArgumentException("d: expected shape " + Arrays.toString(expectedD) + ", got "
                    + Arrays.toString(d.shape()));
        }
        if (groups * Math.max(m, n) >= Integer.MAX_VALUE || k >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a.values: rows and k must stay below 2^31 (TMA coordinates), got "
                    + Arrays.toString(as) + " and " + Arrays.toString(bs));
        }
        long kb = k / GemmShape.BLOCK;
        long nb = (n + GemmShape.BLOCK - 1) / GemmShape.BLOCK;
        scales(a.scales(), "a.scales", masked ? new long[] {groups, m, kb} : new long[] {m, kb}, "one F32 per row and 128 values of k");
        scales(b.scales(), "b.scales", bRank == 3 ? new long[] {groups, nb, kb} : new long[] {nb, kb},
                "one F32 per 128 x 128 block");

        Device device = d.device();
        for (Object[] t : new Object[][] {{a.values(), "a.values"}, {a.scales(), "a.scales"}, {b.values(), "b.values"},
                {b.scales(), "b.scales"}}) {
            Tensor x = (Tensor) t[0];
            if (!x.device().equals(device)) {
                throw new IllegalArgumentException(t[1] + ": on " + x.device() + ", but d is on " + device
                        + " (every operand must be on one device)");
            }
        }
        contiguous(a.values(), "a.values");
        contiguous(b.values(), "b.values");
        contiguous(b.scales(), "b.scales");
        contiguous(d, "d");
        aligned16(a.values(), "a.values");
        aligned16(b.values(), "b.values");
        aligned16(d, "d");

        if (kind == GemmKind.CONTIGUOUS) {
            open(groupInfo, "mIndices");
            index(groupInfo, "mIndices", m, device);
        } else if (masked) {
            open(groupInfo, "maskedM");
            index(groupInfo, "maskedM", groups, device);
        }
        return new GemmShape(kind, (int) groups, (int) m, (int) n, (int) k);
    }

    private static void open(Tensor t, String name) {
        if (t == null) {
            throw new IllegalArgumentException(name + ": expected a tensor, got null");
        }
        if (t.isClosed()) {
            throw new IllegalArgumentException(name + ": the tensor is closed");
        }
    }

    private static void rank(Tensor t, String name, int rank, String layout) {
        if (t.rank() != rank) {
            throw new IllegalArgumentException(name + ": expected rank " + rank + " " + layout + ", got shape "
                    + Arrays.toString(t.shape()));
        }
    }

    private static void scales(Tensor t, String name, long[] shape, String what) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(name + ": expected shape " + Arrays.toString(shape) + " (" + what + "), got "
                    + Arrays.toString(t.shape()));
        }
    }

    private static void contiguous(Tensor t, String name) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(name + ": expected a contiguous tensor (row-major, rows of whole k"
                    + " for TMA), got strides " + Arrays.toString(t.strides()) + " for shape " + Arrays.toString(t.shape()));
        }
    }

    private static void aligned16(Tensor t, String name) {
        if (t.device().isCuda() && t.address() % 16 != 0) {
            throw new IllegalArgumentException(name + ": TMA needs a 16-byte aligned start, got address 0x"
                    + Long.toHexString(t.address()));
        }
    }

    private static void index(Tensor t, String name, long length, Device device) {
        if (t.dtype() != DType.I32 || t.rank() != 1 || t.size(0) != length) {
            throw new IllegalArgumentException(name + ": expected I32 [" + length + "], got " + t.dtype() + " "
                    + Arrays.toString(t.shape()));
        }
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(name + ": on " + t.device() + ", but d is on " + device);
        }
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(name + ": expected a contiguous tensor, got strides "
                    + Arrays.toString(t.strides()));
        }
    }
}

package io.infra4j.deepgemm.internal;

import io.infra4j.memory.DTypeCodec;
import io.infra4j.memory.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.IntStream;

/**
 * The FP8 GEMMs in Java on host tensors: the default without a GPU and the oracle of the GPU tests.
 * Each 128-wide K block's products are summed exactly (in double: e4m3 products have 8 significant
 * bits, so any order gives the same sum), scaled by {@code sa * sb} in FP32 and accumulated in FP32,
 * as the kernel's promotion does; D is rounded to BF16 to nearest even. Rows run in parallel.
 */
public final class Fp8GemmReference {
    private Fp8GemmReference() {}

    /**
     * D = A B^T for host tensors already checked by the API. For CONTIGUOUS, {@code groupInfo} holds
     * each row's group (-1: padding, its row of D left as it is); for MASKED, each group's valid rows
     * (rows beyond are left as they are).
     */
    public static void gemm(GemmShape s, Tensor a, Tensor sa, Tensor b, Tensor sb, Tensor groupInfo, Tensor d) {
        byte[] av = bytes(a), bv = bytes(b);
        int kb = s.kBlocks(), nb = s.nBlocks();
        int[] info = groupInfo == null ? null : ints(groupInfo);
        float[] aScales = floats(sa), bScales = floats(sb);
        float[] av32 = decode(av), bv32 = decode(bv);
        int rowsPerGroup = s.kind() == GemmKind.MASKED ? s.m() : 0;
        int totalRows = s.kind() == GemmKind.MASKED ? s.groups() * s.m() : s.m();
        MemorySegment dOut = d.segment();
        IntStream.range(0, totalRows).parallel().forEach(row -> {
            int group;
            int localRow = row;
            if (s.kind() == GemmKind.MASKED) {
                group = row / rowsPerGroup;
                localRow = row % rowsPerGroup;
                if (localRow >= Math.min(Math.max(info[group], 0), s.m())) {
                    return;
                }
            } else if (s.kind() == GemmKind.CONTIGUOUS) {
                group = info[row];
                if (group < 0) {
                    return;
                }
            } else {
                group = 0;
            }
            long aRow = (long) row * s.k();
            short[] out = new short[s.n()];
            for (int col = 0; col < s.n(); col++) {
                long bRow = ((long) group * s.n() + col) * s.k();
                float acc = 0f;
                for (int blk = 0; blk < kb; blk++) {
                    double part = 0;
                    int base = blk * GemmShape.BLOCK;
                    for (int x = 0; x < GemmShape.BLOCK; x++) {
                        part += (double) av32[(int) (aRow + base + x)] * bv32[(int) (bRow + base + x)];
                    }
                    float scaleA = aScales[row * kb + blk];
                    float scaleB = bScales[(group * nb + col / GemmShape.BLOCK) * kb + blk];
                    acc += (float) part * (scaleA * scaleB);
                }
                out[col] = DTypeCodec.floatToBf16(acc);
            }
            // d is contiguous: row `row` of the flattened [rows, n] view.
            MemorySegment.copy(out, 0, dOut, ValueLayout.JAVA_SHORT_UNALIGNED, (long) row * s.n() * 2, s.n());
        });
    }

    private static byte[] bytes(Tensor t) {
        return t.segment().toArray(ValueLayout.JAVA_BYTE);
    }

    private static float[] decode(byte[] e4m3) {
        float[] out = new float[e4m3.length];
        for (int i = 0; i < e4m3.length; i++) {
            out[i] = DTypeCodec.e4m3ToFloat(e4m3[i]);
        }
        return out;
    }

    // Scales in logical row-major order, whatever the view's strides (M-major views included).
    private static float[] floats(Tensor t) {
        return t.toFloatArray();
    }

    private static int[] ints(Tensor t) {
        int[] out = new int[(int) t.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (int) t.getBits(i);
        }
        return out;
    }
}

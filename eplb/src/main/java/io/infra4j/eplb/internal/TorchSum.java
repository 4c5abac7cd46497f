package io.infra4j.eplb.internal;

import java.util.Arrays;

/**
 * PyTorch's CPU float32 {@code sum(-1)} of one contiguous row, reproduced operation for operation
 * (ATen's cascade sum): the order of float additions decides the last bit of a group's load, and
 * that bit decides ties in the packing. Rows shorter than {@link #LANES} are summed as scalars with
 * four interleaved partial sums; longer rows as {@link #LANES}-wide vectors, four of them
 * interleaved and cascaded in levels, then the scalar tail and finally the lanes are added in order.
 * Checked bit for bit against PyTorch 2.11 (TorchPrimitivesParityTest), whose x86-64 sum kernel
 * uses 8 lanes whatever the CPU (ATEN_CPU_CAPABILITY avx2 and avx512 give the same sums).
 *
 * <p>An instance holds the accumulators, so summing allocates nothing; not thread-safe.
 */
final class TorchSum {
    /** Floats per vector in PyTorch's x86-64 sum kernel. */
    static final int LANES = 8;
    private static final int ILP = 4;
    private static final int LEVELS = 4;

    /** acc[level][ilp][lane], flattened; lanes = 1 for the scalar path. */
    private final float[] acc = new float[LEVELS * ILP * LANES];

    float sum(float[] row, int offset, int length) {
        float result;
        if (length >= LANES) {
            int vectors = length / LANES;
            rowSum(row, offset, vectors, LANES);
            float tail = 0f;
            for (int k = vectors * LANES; k < length; k++) {
                tail += row[offset + k];
            }
            for (int l = 0; l < LANES; l++) {
                tail += acc[l];
            }
            result = tail;
        } else {
            rowSum(row, offset, length, 1);
            result = acc[0];
        }
        return 0f + result; // the output starts at zero and the result is added to it
    }

    /** row_sum over {@code size} elements of {@code width} floats, left in acc[0][0][*]. */
    private void rowSum(float[] row, int offset, int size, int width) {
        int sizeIlp = size / ILP;
        multiRowSum(row, offset, sizeIlp, width);
        for (int i = sizeIlp * ILP; i < size; i++) {
            add(0, row, offset + i * width, width);
        }
        for (int k = 1; k < ILP; k++) {
            for (int l = 0; l < width; l++) {
                acc[l] += acc[k * width + l];
            }
        }
    }

    /** multi_row_sum: ILP accumulators, cascaded through LEVELS levels every 2^levelPower steps; result in acc[0]. */
    private void multiRowSum(float[] row, int offset, int size, int width) {
        int levelPower = Math.max(4, ceilLog2(size) / LEVELS);
        int levelStep = 1 << levelPower;
        long levelMask = levelStep - 1;
        int block = ILP * width; // one level's accumulators
        Arrays.fill(acc, 0, LEVELS * block, 0f);
        int i = 0;
        while (i + levelStep <= size) {
            for (int j = 0; j < levelStep; j++, i++) {
                for (int k = 0; k < ILP; k++) {
                    add(k * width, row, offset + (i * ILP + k) * width, width);
                }
            }
            for (int j = 1; j < LEVELS; j++) {
                for (int x = 0; x < block; x++) {
                    acc[j * block + x] += acc[(j - 1) * block + x];
                    acc[(j - 1) * block + x] = 0f;
                }
                long mask = levelMask << (j * levelPower);
                if ((i & mask) != 0) {
                    break;
                }
            }
        }
        for (; i < size; i++) {
            for (int k = 0; k < ILP; k++) {
                add(k * width, row, offset + (i * ILP + k) * width, width);
            }
        }
        for (int j = 1; j < LEVELS; j++) {
            for (int x = 0; x < block; x++) {
                acc[x] += acc[j * block + x];
            }
        }
    }

    private void add(int at, float[] row, int from, int width) {
        for (int l = 0; l < width; l++) {
            acc[at + l] += row[from + l];
        }
    }

    /** c10's CeilLog2: 1 for x <= 2, else ceil(log2 x). */
    static int ceilLog2(long x) {
        return x <= 2 ? 1 : 64 - Long.numberOfLeadingZeros(x - 1);
    }
}

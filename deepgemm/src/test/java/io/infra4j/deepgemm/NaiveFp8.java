package io.infra4j.deepgemm;

/**
 * DeepGEMM's quantisation written out the slow, obvious way, sharing no code with the library: amax
 * by Math.max with an explicit NaN rule, and e4m3 by searching all 127 codes of the value's sign for
 * the nearest (ties to the even code) after clamping to +-448.
 */
final class NaiveFp8 {
    static final int SCALE_NAN = 0x7FC00000;

    private NaiveFp8() {}

    /** The value of an e4m3 code (no NaN: callers never ask for 0x7F or 0xFF). */
    static double decode(int code) {
        int e = (code >> 3) & 0xF;
        int m = code & 7;
        double mag = e == 0 ? m * Math.scalb(1.0, -9) : (1 + m / 8.0) * Math.scalb(1.0, e - 7);
        return (code & 0x80) != 0 ? -mag : mag;
    }

    /** e4m3 of v: NaN 0x7F, else clamped to +-448 and rounded to the nearest code, ties to even. */
    static byte encode(float v) {
        if (Float.isNaN(v)) {
            return 0x7F;
        }
        double c = Math.max(-448.0, Math.min(448.0, v));
        int sign = (Float.floatToRawIntBits(v) < 0) ? 0x80 : 0; // the sign of v, -0 included
        int best = sign;
        double bestDist = Double.POSITIVE_INFINITY;
        for (int code = sign; code < sign + 0x7F; code++) {
            double d = Math.abs(decode(code) - c);
            if (d < bestDist || (d == bestDist && (code & 1) == 0)) {
                best = code;
                bestDist = d;
            }
        }
        return (byte) best;
    }

    /** The amax of some values: NaN if any is NaN, else the largest magnitude, at least 1e-4. */
    static float amax(float[] x, int[] indices) {
        float amax = 0;
        for (int i : indices) {
            if (Float.isNaN(x[i])) {
                return Float.NaN;
            }
            amax = Math.max(amax, Math.abs(x[i]));
        }
        return Math.max(amax, 1e-4f);
    }

    static int scaleBits(float amax) {
        return Float.isNaN(amax) ? SCALE_NAN : Float.floatToRawIntBits(amax / 448f);
    }

    /** Quantised values and scale bits of one matrix [rows, cols] (dense floats). */
    record Result(byte[] values, int[] scales) {}

    static Result perToken(float[] x, int rows, int cols) {
        return quantize(x, rows, cols, 1);
    }

    static Result perBlock(float[] x, int rows, int cols) {
        return quantize(x, rows, cols, 128);
    }

    private static Result quantize(float[] x, int rows, int cols, int rowsPerScale) {
        int rb = (rows + rowsPerScale - 1) / rowsPerScale;
        int kb = (cols + 127) / 128;
        byte[] q = new byte[rows * cols];
        int[] s = new int[rb * kb];
        for (int r0 = 0; r0 < rb; r0++) {
            for (int k = 0; k < kb; k++) {
                int rows0 = r0 * rowsPerScale;
                int rows1 = Math.min(rows0 + rowsPerScale, rows);
                int cols0 = k * 128;
                int cols1 = Math.min(cols0 + 128, cols);
                int[] idx = new int[(rows1 - rows0) * (cols1 - cols0)];
                int n = 0;
                for (int r = rows0; r < rows1; r++) {
                    for (int c = cols0; c < cols1; c++) {
                        idx[n++] = r * cols + c;
                    }
                }
                float amax = amax(x, idx);
                float mul = 448f / amax;
                for (int i : idx) {
                    q[i] = encode(x[i] * mul);
                }
                s[r0 * kb + k] = scaleBits(amax);
            }
        }
        return new Result(q, s);
    }
}

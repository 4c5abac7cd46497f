package io.infra4j.memory;

import java.lang.foreign.ValueLayout;

/**
 * Element types of a {@link Tensor}. The {@link #code()} of each is the number that crosses the C
 * ABI ({@code INFRA4J_DTYPE_*} in {@code native-src/include/infra4j/types.h}) and never changes
 * meaning.
 */
public enum DType {
    /** IEEE binary32. */
    F32(0, 4, "float32", true),
    /** IEEE binary16. */
    F16(1, 2, "float16", true),
    /** bfloat16: the upper half of a binary32. */
    BF16(2, 2, "bfloat16", true),
    /** FP8 E4M3 "fn": no infinity, one NaN per sign (0x7F/0xFF), largest finite 448. */
    F8_E4M3(3, 1, "float8_e4m3fn", true),
    /** FP8 E5M2: IEEE-like, with infinities and NaNs, largest finite 57344. */
    F8_E5M2(4, 1, "float8_e5m2", true),
    I8(5, 1, "int8", false),
    U8(6, 1, "uint8", false),
    I32(7, 4, "int32", false),
    I64(8, 8, "int64", false),
    /** One byte per element, 0 or 1. */
    BOOL(9, 1, "bool", false);

    private static final DType[] BY_CODE = values();

    private final int code;
    private final int byteSize;
    private final String torchName;
    private final boolean floatingPoint;

    DType(int code, int byteSize, String torchName, boolean floatingPoint) {
        this.code = code;
        this.byteSize = byteSize;
        this.torchName = torchName;
        this.floatingPoint = floatingPoint;
    }

    /** The number of this dtype in the C ABI. */
    public int code() {
        return code;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** PyTorch's name for the same type ({@code torch.<name>}). */
    public String torchName() {
        return torchName;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The dtypes that {@link TensorOps#cast} converts between, on the CPU and on the GPU. */
    public boolean isCastable() {
        return floatingPoint;
    }

    /** The largest finite value, for floating-point dtypes. */
    public double maxFinite() {
        return switch (this) {
            case F32 -> Float.MAX_VALUE;
            case F16 -> 65504.0;
            case BF16 -> Float.intBitsToFloat(0x7F7F0000);
            case F8_E4M3 -> 448.0;
            case F8_E5M2 -> 57344.0;
            default -> throw new UnsupportedOperationException(this + " is not a floating-point dtype");
        };
    }

    /** An unaligned layout of the storage type of one element (raw bits for the minifloats). */
    public ValueLayout storageLayout() {
        return switch (byteSize) {
            case 1 -> ValueLayout.JAVA_BYTE;
            case 2 -> ValueLayout.JAVA_SHORT_UNALIGNED;
            case 4 -> this == F32 ? ValueLayout.JAVA_FLOAT_UNALIGNED : ValueLayout.JAVA_INT_UNALIGNED;
            default -> ValueLayout.JAVA_LONG_UNALIGNED;
        };
    }

    /** The dtype with this C ABI code. */
    public static DType fromCode(int code) {
        if (code < 0 || code >= BY_CODE.length) {
            throw new IllegalArgumentException("no dtype has code " + code + " (codes are 0.." + (BY_CODE.length - 1) + ")");
        }
        return BY_CODE[code];
    }
}

package io.infra4j.deepep;

import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;

/** The argument checks and small host copies both GPU modes share. */
final class EpTensors {
    private EpTensors() {}

    static int[] toInts(Tensor t, CudaStream stream) {
        try (Tensor host = Tensor.empty(DType.I32, Device.CPU, t.shape())) {
            TensorOps.copy(t, host, stream);
            int[] out = new int[(int) host.numel()];
            for (int i = 0; i < out.length; i++) {
                out[i] = (int) host.getBits(i);
            }
            return out;
        }
    }

    static int[] toBytes(Tensor t, CudaStream stream, int n) {
        try (Tensor host = Tensor.empty(DType.U8, Device.CPU, t.shape())) {
            TensorOps.copy(t, host, stream);
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = (int) host.getBits(i);
            }
            return out;
        }
    }

    static void fromInts(Tensor dst, int[] values, CudaStream stream) {
        try (Tensor host = Tensor.empty(DType.I32, Device.CPU, values.length)) {
            for (int i = 0; i < values.length; i++) {
                host.setBits(values[i], i);
            }
            TensorOps.copy(host, dst, stream);
            stream.synchronize(); // the host tensor is freed next
        }
    }

    static void checkDevice(Tensor t, String name, Device device) {
        if (t.isClosed()) {
            throw new IllegalArgumentException(name + ": the tensor is closed");
        }
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(name + ": expected a tensor on " + device + " (the stream's device), got one on "
                    + t.device());
        }
    }

    static void checkMatrix(Tensor t, String name, DType dtype, long rows, long cols) {
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException(name + ": expected dtype " + dtype + ", got " + t.dtype());
        }
        if (t.rank() != 2 || t.size(0) != rows || t.size(1) != cols) {
            throw new IllegalArgumentException(name + ": expected shape [" + rows + ", " + cols + "], got "
                    + java.util.Arrays.toString(t.shape()));
        }
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(name + ": expected a contiguous tensor");
        }
    }

    static void closeAll(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null) {
                t.close();
            }
        }
    }
}

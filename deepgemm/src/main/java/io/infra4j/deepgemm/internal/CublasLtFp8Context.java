package io.infra4j.deepgemm.internal;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaMemory;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.cublas.CublasLtHandle;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the cuBLASLt path keeps per GPU: the handle and its workspace, the plans of the last
 * {@link #PLANS} shapes, and two scratch buffers for scales that need another layout.
 *
 * <p>Runs are serialised ({@code synchronized}) because they share the workspace and the scratch
 * buffers; for the same reason, when a run comes on another stream than the last one, the new
 * stream first waits for everything queued on the old one.
 */
final class CublasLtFp8Context implements AutoCloseable {
    /** Shapes whose plans are kept; the least recently used goes first. */
    static final int PLANS = 64;

    private record Shape(int m, int n, int k) {}

    private final CudaDevice device;
    private final CublasLtHandle handle;
    private final Map<Shape, CublasLtFp8Plan> plans = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Shape, CublasLtFp8Plan> eldest) {
            if (size() > PLANS) {
                eldest.getValue().close(); // host descriptors only: queued matmuls no longer need them
                return true;
            }
            return false;
        }
    };
    private final Scratch aScales = new Scratch("A scales");
    private final Scratch bScales = new Scratch("B scales");
    private CudaStream lastStream;

    CublasLtFp8Context(CudaDevice device, long workspaceBytes) {
        this.device = device;
        this.handle = CublasLtHandle.create(device, workspaceBytes);
    }

    /** See {@link CublasLtFp8Gemm#gemmNt}; arguments were checked there. */
    synchronized void run(long dA, long dSa, long dB, long dSb, long dD, int m, int n, int k, CudaStream stream) {
        Cuda.useDevice(device.ordinal()); // events and copies below go to the current device
        followLastStream(stream);
        long sa = aScalesForCublas(dSa, m, k, stream);
        long sb = bScalesForCublas(dSb, n, k, stream);
        Shape shape = new Shape(m, n, k);
        CublasLtFp8Plan plan = plans.get(shape);
        if (plan == null) {
            plan = CublasLtFp8Plan.create(handle, m, n, k, sa, sb);
            plans.put(shape, plan);
        }
        plan.run(handle, dA, sa, dB, sb, dD, stream);
    }

    /** The kernels' M-major A scales, or (without padding, for m % 4 != 0) a copy without it. */
    private long aScalesForCublas(long dSa, int m, int k, CudaStream stream) {
        if (!CublasLtScaleLayout.aScalesNeedCopy(m)) {
            return dSa;
        }
        long dst = aScales.ensure(CublasLtScaleLayout.aScaleFloatsExact(m, k), stream);
        CudaMemory.copy2D(dst, (long) m * Float.BYTES, dSa, (long) CublasLtScaleLayout.aScaleRows(m) * Float.BYTES,
                (long) m * Float.BYTES, CublasLtScaleLayout.kBlocks(k), stream);
        return dst;
    }

    /** B's row-major block scales, or a copy whose rows are padded to 4 K blocks. */
    private long bScalesForCublas(long dSb, int n, int k, CudaStream stream) {
        if (!CublasLtScaleLayout.bScalesNeedCopy(k)) {
            return dSb;
        }
        long rowBytes = (long) CublasLtScaleLayout.kBlocks(k) * Float.BYTES;
        long dst = bScales.ensure(CublasLtScaleLayout.bScaleFloats(n, k), stream);
        CudaMemory.copy2D(dst, (long) CublasLtScaleLayout.bScaleRowPitch(k) * Float.BYTES, dSb, rowBytes, rowBytes,
                CublasLtScaleLayout.nBlocks(n), stream);
        return dst;
    }

    /** Orders {@code stream} after the work queued on the previous run's stream (shared workspace). */
    private void followLastStream(CudaStream stream) {
        if (lastStream != null && lastStream != stream) {
            if (lastStream.isClosed()) {
                device.synchronize(); // its work may still run; there is no stream left to wait for
            } else {
                try (CudaEvent previous = lastStream.recordEvent()) {
                    stream.waitFor(previous);
                }
            }
        }
        lastStream = stream;
    }

    /** Waits for the device, then frees the plans, the scratch buffers, the workspace and the handle. */
    @Override
    public synchronized void close() {
        device.synchronize();
        RuntimeException failure = null;
        for (AutoCloseable c : new AutoCloseable[] {this::closePlans, aScales, bScales, handle}) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        lastStream = null;
        if (failure != null) {
            throw failure;
        }
    }

    private void closePlans() {
        for (CublasLtFp8Plan p : plans.values()) {
            p.close();
        }
        plans.clear();
    }

    int cachedPlans() {
        return plans.size();
    }

    @Override
    public String toString() {
        return "CublasLtFp8Context(cuda:" + device.ordinal() + ", " + plans.size() + " plans)";
    }

    /** A device buffer of floats that grows when a run needs more, zeroed when (re)made. */
    private final class Scratch implements AutoCloseable {
        private final String what;
        private Tensor buffer;

        Scratch(String what) {
            this.what = what;
        }

        long ensure(long floats, CudaStream stream) {
            if (buffer == null || buffer.numel() < floats) {
                if (buffer != null) {
                    device.synchronize(); // runs on other streams may still read it
                    buffer.close();
                    buffer = null;
                }
                buffer = Tensor.empty(DType.F32, Device.cuda(device.ordinal()), stream, Math.max(floats, 256));
                CudaMemory.fill(buffer.address(), 0, buffer.byteSize(), stream); // padding reads as 0, never garbage
            }
            return buffer.address();
        }

        @Override
        public void close() {
            if (buffer != null) {
                buffer.close();
                buffer = null;
            }
        }

        @Override
        public String toString() {
            return what + (buffer == null ? " (none)" : " (" + buffer.numel() + " floats)");
        }
    }
}

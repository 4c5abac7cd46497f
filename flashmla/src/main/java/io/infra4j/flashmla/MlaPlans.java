package io.infra4j.flashmla;

import io.infra4j.ffm.CudaStream;
import io.infra4j.flashmla.internal.MlaKernel;
import io.infra4j.flashmla.internal.MlaPlanner;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Makes {@link MlaPlan}s: lengths to the host, checked, planned, and the words back to their device. */
final class MlaPlans {
    private MlaPlans() {}

    /** {@code parts} 0: one per multiprocessor of the device. */
    static MlaPlan make(Tensor cacheSeqlens, int parts, CudaStream stream) {
        DecodeArgs.tensor(cacheSeqlens, "cacheSeqlens");
        if (cacheSeqlens.rank() != 1 || cacheSeqlens.dtype() != DType.I32 || !cacheSeqlens.isContiguous()) {
            throw new IllegalArgumentException("cacheSeqlens: expected a contiguous I32 tensor [batch], got " + cacheSeqlens);
        }
        long batch = cacheSeqlens.size(0);
        if (batch < 1 || batch > MlaPlanner.MAX_BATCH) {
            throw new IllegalArgumentException("cacheSeqlens: expected 1 to " + MlaPlanner.MAX_BATCH + " sequences, got " + batch);
        }
        if (stream == null) {
            throw new IllegalArgumentException("stream: expected a CudaStream (CudaStream.legacyDefault() for the default), got null");
        }
        Device device = cacheSeqlens.device();
        if (device.isCuda()) {
            if (stream.isClosed()) {
                throw new IllegalStateException("stream: the stream is closed");
            }
            if (!stream.isLegacyDefault() && stream.device() != device.index()) {
                throw new IllegalArgumentException("stream: expected a stream of " + device + " (where cacheSeqlens is), got one of cuda:"
                        + stream.device());
            }
            MlaKernel.require(); // before any copy: a library without MLA says so first
        }
        int[] lens = hostLengths(cacheSeqlens, stream);
        for (int b = 0; b < lens.length; b++) {
            if (lens[b] < 0 || lens[b] > MlaPlanner.MAX_SEQLEN) {
                throw new IllegalArgumentException("cacheSeqlens: sequence " + b + " has length " + lens[b] + ", expected 0.."
                        + MlaPlanner.MAX_SEQLEN);
            }
        }
        int target = parts > 0 ? parts
                : MlaPlanner.defaultParts(device.isCuda() ? MlaKernel.multiprocessors(device) : MlaPlanner.DEFAULT_MULTIPROCESSORS);
        MlaPlanner.Layout layout = MlaPlanner.plan(lens, target);
        int[] words = layout.words();
        if (device.isCuda() && MlaKernel.planWords(lens.length) != MlaPlanner.headWords(lens.length)) {
            throw new IllegalStateException("infra4j_mla_plan_words(" + lens.length + ") = " + MlaKernel.planWords(lens.length)
                    + ", Java's plan head has " + MlaPlanner.headWords(lens.length)
                    + " words: the library and these bindings disagree on mla.h");
        }
        return new MlaPlan(upload(words, device, stream), lens, layout, cacheSeqlens.address(), stream);
    }

    private static int[] hostLengths(Tensor cacheSeqlens, CudaStream stream) {
        if (cacheSeqlens.device().isCpu()) {
            return cacheSeqlens.segment().toArray(ValueLayout.JAVA_INT_UNALIGNED);
        }
        try (Tensor host = Tensor.empty(DType.I32, Device.CPU, cacheSeqlens.shape())) {
            TensorOps.copy(cacheSeqlens, host, stream); // into pageable memory: waits for the stream
            return host.segment().toArray(ValueLayout.JAVA_INT_UNALIGNED);
        }
    }

    /** The words in a new I32 tensor on {@code device}; a device copy is queued on {@code stream}. */
    private static Tensor upload(int[] words, Device device, CudaStream stream) {
        Tensor host = Tensor.empty(DType.I32, Device.CPU, words.length);
        host.segment().copyFrom(MemorySegment.ofArray(words));
        if (device.isCpu()) {
            return host;
        }
        try (host) {
            Tensor dev = Tensor.empty(DType.I32, device, stream, words.length);
            try {
                // From pageable memory the copy has read the host bytes when it returns: host may close.
                TensorOps.copy(host, dev, stream);
                return dev;
            } catch (RuntimeException e) {
                dev.close();
                throw e;
            }
        }
    }
}

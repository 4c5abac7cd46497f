package io.infra4j.flashmla;

import io.infra4j.ffm.CudaStream;
import io.infra4j.flashmla.internal.MlaConstants;
import io.infra4j.flashmla.internal.MlaShape;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.util.Arrays;

/**
 * The checks of a decode's arguments, all in Java before any native call: each failure is an
 * {@link IllegalArgumentException} whose message starts with the argument's name and says what was
 * expected and what came (a closed tensor or plan: {@link IllegalStateException}).
 */
final class DecodeArgs {
    private DecodeArgs() {}

    /** Checks the inputs and returns the problem's sizes. */
    static MlaShape inputs(Tensor q, KvCache kv, Tensor blockTable, Tensor cacheSeqlens, MlaPlan plan, MlaOptions options) {
        tensor(q, "q");
        if (kv == null) {
            throw new IllegalArgumentException("kv: expected a KvCache, got null");
        }
        tensor(kv.data(), "kv");
        if (kv.isFp8()) {
            tensor(kv.scales(), "kvScales");
        }
        tensor(blockTable, "blockTable");
        tensor(cacheSeqlens, "cacheSeqlens");
        if (plan == null) {
            throw new IllegalArgumentException("plan: expected an MlaPlan (MlaDecode.plan), got null");
        }
        plan.checkOpen();
        if (options == null) {
            throw new IllegalArgumentException("options: expected MlaOptions (MlaOptions.defaults()), got null");
        }

        // q [batch, seqlen_q, heads_q, head_dim] BF16
        layout(q, "q", DType.BF16, 4, "[batch, seqlen_q, heads_q, head_dim]");
        long[] qs = q.shape();
        if (qs[0] < 1 || qs[1] < 1 || qs[2] < 1) {
            throw new IllegalArgumentException("q: expected batch, seqlen_q and heads_q >= 1, got shape " + Arrays.toString(qs));
        }
        int32(qs, "q");
        aligned16(q, "q");
        if (!MlaConstants.isHeadDim(qs[3])) {
            throw new IllegalArgumentException("q: expected head_dim 576 or 512, got " + qs[3] + " (shape " + Arrays.toString(qs) + ")");
        }

        // kv [num_blocks, page_size, heads_kv, head_dim] (+ scales): the record checked ranks and dtypes.
        Device device = q.device();
        sameDevice(kv.data(), "kv", device);
        contiguous(kv.data(), "kv");
        aligned16(kv.data(), "kv");
        if (kv.isFp8()) {
            sameDevice(kv.scales(), "kvScales", device);
            contiguous(kv.scales(), "kvScales");
        }
        long[] ks = kv.data().shape();
        int32(ks, "kv");
        if (ks[3] != qs[3]) {
            throw new IllegalArgumentException("kv: expected head_dim " + qs[3] + " like q, got " + ks[3] + " (shape "
                    + Arrays.toString(ks) + ")");
        }
        if (!MlaConstants.isPageSize(ks[1])) {
            throw new IllegalArgumentException("kv: expected page_size 16, 32 or 64, got " + ks[1] + " (shape "
                    + Arrays.toString(ks) + ")");
        }
        if (ks[2] < 1) {
            throw new IllegalArgumentException("kv: expected heads_kv >= 1, got shape " + Arrays.toString(ks));
        }
        if (qs[2] % ks[2] != 0) {
            throw new IllegalArgumentException("q: heads_q " + qs[2] + " is not a multiple of kv's heads_kv " + ks[2]
                    + " (each KV head serves heads_q / heads_kv query heads)");
        }

        // blockTable [batch, max_blocks] I32
        sameDevice(blockTable, "blockTable", device);
        layout(blockTable, "blockTable", DType.I32, 2, "[batch, max_blocks]");
        long[] bt = blockTable.shape();
        int32(bt, "blockTable");
        if (bt[0] != qs[0]) {
            throw new IllegalArgumentException("blockTable: expected " + qs[0] + " rows (q's batch), got shape "
                    + Arrays.toString(bt));
        }

        // cacheSeqlens [batch] I32, the plan's
        sameDevice(cacheSeqlens, "cacheSeqlens", device);
        layout(cacheSeqlens, "cacheSeqlens", DType.I32, 1, "[batch]");
        if (cacheSeqlens.size(0) != qs[0]) {
            throw new IllegalArgumentException("cacheSeqlens: expected shape [" + qs[0] + "] (q's batch), got "
                    + Arrays.toString(cacheSeqlens.shape()));
        }
        if (!plan.device().equals(device)) {
            throw new IllegalArgumentException("plan: expected a plan on " + device + " like q, got one on " + plan.device());
        }
        if (plan.batch() != qs[0]) {
            throw new IllegalArgumentException("plan: made for " + plan.batch() + " sequences, q has " + qs[0]);
        }
        if (!plan.madeFrom(cacheSeqlens)) {
            throw new IllegalArgumentException("cacheSeqlens: not the tensor the plan was made from; make the plan "
                    + "from the lengths the decode reads (MlaDecode.plan(cacheSeqlens, ...))");
        }
        lengthsFitTable(plan.seqlensView(), plan.maxSeqlen(), bt[1], ks[1]);

        return new MlaShape((int) qs[0], (int) qs[1], (int) qs[2], (int) ks[2], (int) qs[3], MlaConstants.HEAD_DIM_V,
                (int) ks[1], (int) ks[0], (int) bt[1], kv.isFp8());
    }

    /** Checks out [batch, seqlen_q, heads_q, 512] BF16 and lse [batch, heads_q, seqlen_q] F32. */
    static void outputs(MlaShape s, Device device, Tensor out, Tensor lse) {
        tensor(out, "out");
        tensor(lse, "lse");
        sameDevice(out, "out", device);
        sameDevice(lse, "lse", device);
        layout(out, "out", DType.BF16, 4, "[batch, seqlen_q, heads_q, " + s.headDimV() + "]");
        layout(lse, "lse", DType.F32, 3, "[batch, heads_q, seqlen_q]");
        aligned16(out, "out");
        long[] o = {s.batch(), s.seqlenQ(), s.headsQ(), s.headDimV()};
        if (!Arrays.equals(o, out.shape())) {
            throw new IllegalArgumentException("out: expected shape " + Arrays.toString(o) + " (head_dim_v is "
                    + s.headDimV() + "), got " + Arrays.toString(out.shape()));
        }
        long[] l = {s.batch(), s.headsQ(), s.seqlenQ()};
        if (!Arrays.equals(l, lse.shape())) {
            throw new IllegalArgumentException("lse: expected shape " + Arrays.toString(l) + ", got "
                    + Arrays.toString(lse.shape()));
        }
    }

    /** A GPU decode runs on the plan's stream, which must still be open and belong to the device. */
    static CudaStream stream(MlaPlan plan, Device device) {
        CudaStream stream = plan.stream();
        if (stream.isClosed()) {
            throw new IllegalStateException("plan: the stream the plan was made on is closed");
        }
        if (!stream.isLegacyDefault() && stream.device() != device.index()) {
            throw new IllegalArgumentException("plan: its stream belongs to cuda:" + stream.device() + ", the tensors to "
                    + device);
        }
        return stream;
    }

    /** Each length within its row of the block table: len <= max_blocks * page_size. */
    private static void lengthsFitTable(int[] seqlens, int maxSeqlen, long maxBlocks, long pageSize) {
        long capacity = maxBlocks * pageSize;
        if (maxSeqlen <= capacity) {
            return;
        }
        for (int b = 0; b < seqlens.length; b++) {
            if (seqlens[b] > capacity) {
                throw new IllegalArgumentException("cacheSeqlens: sequence " + b + " has length " + seqlens[b]
                        + ", but a blockTable row holds " + maxBlocks + " blocks of " + pageSize + " = " + capacity + " tokens");
            }
        }
    }

    /** mla.h's problem holds int32 sizes. */
    private static void int32(long[] shape, String name) {
        for (long v : shape) {
            if (v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + ": sizes must fit an int32, got shape " + Arrays.toString(shape));
            }
        }
    }

    static void tensor(Tensor t, String name) {
        if (t == null) {
            throw new IllegalArgumentException(name + ": expected a tensor, got null");
        }
        if (t.isClosed()) {
            throw new IllegalStateException(name + ": tensor is closed: " + t);
        }
    }

    private static void layout(Tensor t, String name, DType dtype, int rank, String dims) {
        if (t.rank() != rank) {
            throw new IllegalArgumentException(name + ": expected rank " + rank + " " + dims + ", got shape "
                    + Arrays.toString(t.shape()));
        }
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException(name + ": expected dtype " + dtype + ", got " + t.dtype());
        }
        contiguous(t, name);
    }

    private static void contiguous(Tensor t, String name) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(name + ": expected a contiguous tensor, got shape "
                    + Arrays.toString(t.shape()) + " with strides " + Arrays.toString(t.strides()) + "; copy it first");
        }
    }

    /**
     * The kernels move q, the cache and out 16 bytes at a time (and TMA reads the cache), so their
     * first byte must be 16-aligned. Fresh tensors are; a view that starts mid-row of another tensor
     * may not be, and a misaligned access would end the CUDA context rather than raise an error.
     */
    private static void aligned16(Tensor t, String name) {
        if (t.address() % 16 != 0) {
            throw new IllegalArgumentException(name + ": expected a 16-byte-aligned tensor (the kernels move 16 bytes at a "
                    + "time), got one at byte offset " + t.byteOffset() + " of its storage; copy it into a fresh tensor");
        }
    }

    private static void sameDevice(Tensor t, String name, Device device) {
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(name + ": expected a tensor on " + device + " like q, got one on " + t.device());
        }
    }
}

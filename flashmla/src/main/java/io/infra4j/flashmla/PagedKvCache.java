package io.infra4j.flashmla;

import io.infra4j.ffm.CudaStream;
import io.infra4j.flashmla.internal.Fp8Quantizer;
import io.infra4j.flashmla.internal.MlaConstants;
import io.infra4j.memory.CastMode;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import io.infra4j.memory.TensorOps;
import io.infra4j.memory.TensorScope;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A paged KV cache that owns its memory: {@code numBlocks} blocks of {@code pageSize} tokens x
 * heads_kv x head_dim on one device, in BF16 or in F8_E4M3 with F32 scales (see {@link KvCache}),
 * a pool of free blocks, and for each of a fixed number of sequences its length and its list of
 * blocks. {@link #append} writes tokens into the right slots, taking blocks from the pool as
 * needed; {@link #blockTable} and {@link #seqlens} give what {@link MlaDecode} reads.
 *
 * <pre>{@code
 * try (PagedKvCache cache = PagedKvCache.builder().device(Device.cuda(0)).sequences(8).blocks(1024)
 *         .pageSize(64).headsKv(1).headDim(576).stream(stream).build()) {
 *     cache.append(0, tokens);                      // [n, heads_kv, head_dim]
 *     Tensor table = cache.blockTable(scope);       // [8, max blocks per sequence] I32
 *     Tensor lens = cache.seqlens(scope);           // [8] I32
 * }
 * }</pre>
 *
 * <p>New memory is uninitialised (fill {@link #data()} first to poison unused slots). Device copies
 * are queued on the cache's stream. Not thread-safe.
 */
public final class PagedKvCache implements AutoCloseable {
    private final Tensor data;
    private final Tensor scales;
    private final CudaStream stream;
    private final int numBlocks;
    private final int pageSize;
    private final int headsKv;
    private final int headDim;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final int[] lengths;
    private final List<List<Integer>> blocks = new ArrayList<>();

    private PagedKvCache(Builder b) {
        this.numBlocks = b.numBlocks;
        this.pageSize = b.pageSize;
        this.headsKv = b.headsKv;
        this.headDim = b.headDim;
        this.stream = b.stream;
        this.lengths = new int[b.sequences];
        for (int i = 0; i < b.sequences; i++) {
            blocks.add(new ArrayList<>());
        }
        for (int i = 0; i < numBlocks; i++) {
            free.add(i);
        }
        this.data = Tensor.empty(b.dtype, b.device, b.stream, numBlocks, pageSize, headsKv, headDim);
        try {
            this.scales = b.dtype == DType.F8_E4M3
                    ? Tensor.empty(DType.F32, b.device, b.stream, numBlocks, pageSize, headsKv, MlaConstants.scaleGroups(headDim))
                    : null;
        } catch (RuntimeException e) {
            data.close();
            throw e;
        }
    }

    /** A builder: BF16 on the CPU, legacy default stream, unless told otherwise. */
    public static Builder builder() {
        return new Builder();
    }

    /** The cache's settings. */
    public static final class Builder {
        private DType dtype = DType.BF16;
        private Device device = Device.CPU;
        private CudaStream stream = CudaStream.legacyDefault();
        private int sequences = -1;
        private int numBlocks = -1;
        private int pageSize = -1;
        private int headsKv = -1;
        private int headDim = -1;

        private Builder() {}

        /** BF16, or F8_E4M3 (then with F32 scales per 128 values). */
        public Builder dtype(DType dtype) {
            this.dtype = dtype;
            return this;
        }

        public Builder device(Device device) {
            this.device = device;
            return this;
        }

        /** Where device memory is allocated and freed, and copies are queued. */
        public Builder stream(CudaStream stream) {
            this.stream = stream;
            return this;
        }

        /** Sequences it holds (the batch of its block table). */
        public Builder sequences(int sequences) {
            this.sequences = sequences;
            return this;
        }

        /** Blocks in the pool. */
        public Builder blocks(int numBlocks) {
            this.numBlocks = numBlocks;
            return this;
        }

        /** Tokens per block: 16, 32 or 64. */
        public Builder pageSize(int pageSize) {
            this.pageSize = pageSize;
            return this;
        }

        public Builder headsKv(int headsKv) {
            this.headsKv = headsKv;
            return this;
        }

        /** Values per token and head (576 for DeepSeek's MLA, or 512). */
        public Builder headDim(int headDim) {
            this.headDim = headDim;
            return this;
        }

        public PagedKvCache build() {
            if (dtype != DType.BF16 && dtype != DType.F8_E4M3) {
                throw new IllegalArgumentException("dtype: expected BF16 or F8_E4M3, got " + dtype);
            }
            if (device == null) {
                throw new IllegalArgumentException("device: expected a Device, got null");
            }
            if (stream == null) {
                throw new IllegalArgumentException("stream: expected a CudaStream (CudaStream.legacyDefault() for the default), got null");
            }
            positive(sequences, "sequences");
            positive(numBlocks, "blocks");
            positive(headsKv, "headsKv");
            positive(headDim, "headDim");
            if (!MlaConstants.isPageSize(pageSize)) {
                throw new IllegalArgumentException("pageSize: expected 16, 32 or 64, got " + pageSize);
            }
            if (dtype == DType.F8_E4M3 && !MlaConstants.isFp8HeadDim(headDim)) {
                throw new IllegalArgumentException("headDim: an F8_E4M3 cache needs a multiple of 16"
                        + " (one scale per " + KvCache.SCALE_GROUP + " values, the last group possibly shorter), got " + headDim);
            }
            return new PagedKvCache(this);
        }

        private static void positive(int v, String name) {
            if (v < 1) {
                throw new IllegalArgumentException(name + ": expected >= 1, got " + (v == -1 ? "nothing (not set)" : v));
            }
        }
    }

    // ---- what it is ----

    /** The cache as the decode reads it. */
    public KvCache kvCache() {
        return new KvCache(data, scales);
    }

    /** [num_blocks, page_size, heads_kv, head_dim], BF16 or F8_E4M3. */
    public Tensor data() {
        return data;
    }

    /** [num_blocks, page_size, heads_kv, head_dim / 128] F32 for FP8, else null. */
    public Tensor scales() {
        return scales;
    }

    public DType dtype() {
        return data.dtype();
    }

    public Device device() {
        return data.device();
    }

    public int sequences() {
        return lengths.length;
    }

    public int numBlocks() {
        return numBlocks;
    }

    public int pageSize() {
        return pageSize;
    }

    public int headsKv() {
        return headsKv;
    }

    public int headDim() {
        return headDim;
    }

    /** Blocks in the pool, not held by any sequence. */
    public int freeBlocks() {
        return free.size();
    }

    /** Tokens of sequence {@code seq}. */
    public int length(int seq) {
        return lengths[checkSeq(seq)];
    }

    /** Tokens of every sequence. */
    public int[] lengths() {
        return lengths.clone();
    }

    /** The blocks of sequence {@code seq}, page by page. */
    public int[] blocks(int seq) {
        return blocks.get(checkSeq(seq)).stream().mapToInt(Integer::intValue).toArray();
    }

    // ---- changing it ----

    /** Permutes the free pool, so that later blocks come in random order (tests of permuted tables). */
    public void shuffleFreeBlocks(RandomGenerator random) {
        List<Integer> order = new ArrayList<>(free);
        Collections.shuffle(order, random);
        free.clear();
        free.addAll(order);
    }

    /**
     * Appends {@code tokens} [n, heads_kv, head_dim] (any floating dtype, any device) to sequence
     * {@code seq}: BF16 caches store them rounded to BF16, FP8 caches quantise them on the host
     * (see {@link Fp8Quantizer}). Throws {@link IllegalStateException}, changing nothing, when the
     * pool lacks the blocks.
     */
    public void append(int seq, Tensor tokens) {
        checkOpen();
        checkSeq(seq);
        DecodeArgs.tensor(tokens, "tokens");
        long[] expected = {tokens.rank() > 0 ? tokens.size(0) : 0, headsKv, headDim};
        if (tokens.rank() != 3 || !Arrays.equals(expected, tokens.shape())) {
            throw new IllegalArgumentException("tokens: expected shape [n, " + headsKv + ", " + headDim + "], got "
                    + Arrays.toString(tokens.shape()));
        }
        if (!tokens.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("tokens: expected a floating-point dtype, got " + tokens.dtype());
        }
        long n = tokens.size(0);
        if (n == 0) {
            return;
        }
        long newLength = lengths[seq] + n;
        if (newLength > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tokens: sequence " + seq + " would hold " + newLength + " tokens, more than 2^31 - 1");
        }
        List<Integer> owned = blocks.get(seq);
        int needed = (int) ((newLength + pageSize - 1) / pageSize) - owned.size();
        if (needed > free.size()) {
            throw new IllegalStateException("the cache is full: sequence " + seq + " needs " + needed + " more blocks of "
                    + pageSize + " tokens for " + n + " tokens, " + free.size() + " of " + numBlocks + " are free");
        }
        for (int i = 0; i < needed; i++) {
            owned.add(free.poll());
        }
        try {
            if (scales == null) {
                writeBf16(seq, tokens);
            } else {
                writeFp8(seq, tokens);
            }
        } catch (RuntimeException e) {
            for (int i = 0; i < needed; i++) {
                free.addFirst(owned.remove(owned.size() - 1)); // back as they were
            }
            throw e;
        }
        lengths[seq] = (int) newLength;
    }

    /** Empties sequence {@code seq} and returns its blocks to the pool (their bytes stay as they are). */
    public void release(int seq) {
        checkSeq(seq);
        free.addAll(blocks.get(seq));
        blocks.get(seq).clear();
        lengths[seq] = 0;
    }

    private void writeBf16(int seq, Tensor tokens) {
        if (tokens.dtype() == DType.BF16) {
            writeRuns(seq, tokens, data);
            return;
        }
        try (TensorScope tmp = TensorScope.open(stream)) {
            Tensor bf16 = tmp.empty(DType.BF16, tokens.device(), tokens.shape());
            TensorOps.cast(tokens, bf16, CastMode.STANDARD, stream);
            writeRuns(seq, bf16, data);
        }
    }

    private void writeFp8(int seq, Tensor tokens) {
        int n = (int) tokens.size(0);
        try (TensorScope tmp = TensorScope.open(stream)) {
            Tensor host = tokens;
            if (!tokens.device().isCpu()) {
                host = TensorOps.to(tokens, Device.CPU, tmp); // pageable: waits for the copy
            }
            float[] values = host.toFloatArray();
            byte[] e4m3 = new byte[values.length];
            float[] sc = new float[n * headsKv * MlaConstants.scaleGroups(headDim)];
            Fp8Quantizer.quantize(values, headDim, e4m3, sc);
            Tensor q = tmp.empty(DType.F8_E4M3, Device.CPU, n, headsKv, headDim);
            Tensor s = tmp.empty(DType.F32, Device.CPU, n, headsKv, MlaConstants.scaleGroups(headDim));
            q.segment().copyFrom(MemorySegment.ofArray(e4m3));
            MemorySegment.copy(sc, 0, s.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, sc.length);
            writeRuns(seq, q, data);
            writeRuns(seq, s, scales);
        }
    }

    /** Copies src [n, ...] into the sequence's slots after its current length, one copy per page touched. */
    private void writeRuns(int seq, Tensor src, Tensor dst) {
        List<Integer> owned = blocks.get(seq);
        long n = src.size(0);
        long pos = lengths[seq];
        for (long t = 0; t < n; ) {
            int block = owned.get((int) (pos / pageSize));
            int slot = (int) (pos % pageSize);
            long k = Math.min(pageSize - slot, n - t);
            try (Tensor from = src.slice(0, t, t + k);
                 Tensor page = dst.select(0, block);
                 Tensor to = page.slice(0, slot, slot + k)) {
                TensorOps.copy(from, to, stream);
            }
            t += k;
            pos += k;
        }
    }

    // ---- what the decode reads ----

    /** The block table [sequences, max blocks held by one sequence (at least 1)] I32, unused entries 0. */
    public Tensor blockTable(TensorScope scope) {
        int width = 1;
        for (List<Integer> b : blocks) {
            width = Math.max(width, b.size());
        }
        return blockTable(scope, width, 0);
    }

    /**
     * The block table [sequences, width] I32 on the cache's device, owned by {@code scope} (copied on
     * its stream); entries past a sequence's blocks hold {@code filler}.
     */
    public Tensor blockTable(TensorScope scope, int width, int filler) {
        checkOpen();
        int most = 0;
        for (List<Integer> b : blocks) {
            most = Math.max(most, b.size());
        }
        if (width < most) {
            throw new IllegalArgumentException("width: a sequence holds " + most + " blocks, got width " + width);
        }
        int[] table = new int[Math.multiplyExact(lengths.length, width)];
        Arrays.fill(table, filler);
        for (int s = 0; s < lengths.length; s++) {
            List<Integer> b = blocks.get(s);
            for (int p = 0; p < b.size(); p++) {
                table[s * width + p] = b.get(p);
            }
        }
        return toDevice(table, scope, lengths.length, width);
    }

    /** The lengths [sequences] I32 on the cache's device, owned by {@code scope}. */
    public Tensor seqlens(TensorScope scope) {
        checkOpen();
        return toDevice(lengths.clone(), scope, lengths.length);
    }

    private Tensor toDevice(int[] values, TensorScope scope, long... shape) {
        if (scope == null) {
            throw new IllegalArgumentException("scope: expected a TensorScope, got null");
        }
        Tensor t = scope.empty(DType.I32, device(), shape);
        if (device().isCpu()) {
            t.segment().copyFrom(MemorySegment.ofArray(values));
            return t;
        }
        try (Tensor host = Tensor.empty(DType.I32, Device.CPU, shape)) {
            host.segment().copyFrom(MemorySegment.ofArray(values));
            TensorOps.copy(host, t, scope.stream()); // from pageable memory: read before it returns
        }
        return t;
    }

    private int checkSeq(int seq) {
        if (seq < 0 || seq >= lengths.length) {
            throw new IllegalArgumentException("seq: expected a sequence in 0.." + (lengths.length - 1) + ", got " + seq);
        }
        return seq;
    }

    private void checkOpen() {
        if (data.isClosed()) {
            throw new IllegalStateException("the paged KV cache is closed");
        }
    }

    /** Frees the blocks' memory (in the order of the cache's stream). Idempotent. */
    @Override
    public void close() {
        try {
            data.close();
        } finally {
            if (scales != null) {
                scales.close();
            }
        }
    }

    @Override
    public String toString() {
        return "PagedKvCache(" + dtype() + " on " + device() + ", " + numBlocks + " blocks of " + pageSize + " x " + headsKv
                + " x " + headDim + ", " + free.size() + " free, lengths " + (lengths.length <= 8 ? Arrays.toString(lengths)
                : lengths.length + " sequences") + ")";
    }
}

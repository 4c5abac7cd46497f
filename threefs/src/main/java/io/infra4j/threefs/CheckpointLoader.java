package io.infra4j.threefs;

import io.infra4j.bindings.cudart.CudaRuntime;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaDevice;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Loads a safetensors checkpoint into tensors on the host or a GPU through {@link ParallelFileReader}.
 *
 * <p>The data area is read as a few large pieces, split at 4 KiB-aligned file offsets rather than at
 * tensor boundaries: every I/O but the file's last is aligned (so the io_uring backend uses O_DIRECT), the
 * workers get equal shares whatever the tensors' sizes, and a thousand small tensors cost a few chunk
 * reads instead of a thousand. Each chunk that arrives is scattered to the tensors it overlaps.
 *
 * <p>On the host ({@link Device#CPU}) a chunk is copied into the tensors' segments by the worker that read
 * it. On a GPU the workers' iovs are page-locked and each worker has its own stream: a chunk is copied with
 * {@code cudaMemcpyAsync} on that stream and an event is recorded after the copies out of each half of the
 * iov; before the worker reads into a half again it waits for that half's event, so reads into one half
 * overlap the copies out of the other. {@link #load} returns when every copy is complete.
 */
public final class CheckpointLoader {
    private CheckpointLoader() {}

    /**
     * How to read.
     *
     * @param threads    reader threads (each with a ring, an iov of {@code queueDepth * chunkBytes} bytes and, on a
     *                   GPU, a stream)
     * @param queueDepth chunks in flight per thread (even, at least 2)
     * @param chunkBytes bytes per I/O, a multiple of 4096
     * @param progress   if not null, told the bytes of tensor data of each chunk as it is copied (or, on a GPU,
     *                   queued); called from the reader threads, possibly at the same time
     */
    public record Options(int threads, int queueDepth, int chunkBytes, LongConsumer progress) {
        public Options {
            new ParallelFileReader.Options(threads, queueDepth, chunkBytes, false); // the same checks
        }

        /** {@link ParallelFileReader.Options#defaults()}'s reading, no progress. */
        public static Options defaults() {
            ParallelFileReader.Options d = ParallelFileReader.Options.defaults();
            return new Options(d.threads(), d.queueDepth(), d.chunkBytes(), null);
        }

        public Options withProgress(LongConsumer progress) {
            return new Options(threads, queueDepth, chunkBytes, progress);
        }

        public Options withThreads(int threads) {
            return new Options(threads, queueDepth, chunkBytes, progress);
        }
    }

    /** Loads {@code file} into host tensors. */
    public static LoadedCheckpoint load(Path file, Options options) throws IOException {
        return load(file, Device.CPU, null, options);
    }

    /**
     * Loads every tensor of {@code file} into a new dense tensor on {@code device}, in file order. Device
     * tensors are allocated (and later freed) in the order of {@code stream}, a stream of that device
     * ({@link CudaStream#legacyDefault()} will do); the host ignores it (null is fine). When this returns the
     * tensors hold the file's bytes and work queued on {@code stream} afterwards may use them. On failure every
     * tensor, stream, event and buffer made here is released before the exception leaves.
     */
    public static LoadedCheckpoint load(Path file, Device device, CudaStream stream, Options options) throws IOException {
        if (file == null || device == null || options == null) {
            throw new IllegalArgumentException("file, device, options: expected all three, got " + file + ", " + device + ", " + options);
        }
        if (device.isCuda() && (stream == null || stream.isClosed())) {
            throw new IllegalArgumentException("stream: expected an open stream of " + device + ", got " + stream);
        }
        long t0 = System.nanoTime();
        SafetensorsHeader header = SafetensorsHeader.read(file);
        List<SafetensorsHeader.Entry> entries = header.entries();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        ParallelFileReader reader = null;
        Sink sink = null;
        Throwable failure = null;
        try {
            if (device.isCuda()) {
                Cuda.useDevice(device.index());
            }
            Tensor[] byEntry = new Tensor[entries.size()];
            for (int i = 0; i < byEntry.length; i++) {
                SafetensorsHeader.Entry e = entries.get(i);
                byEntry[i] = device.isCpu() ? Tensor.empty(e.dtype(), Device.CPU, e.shape()) : Tensor.empty(e.dtype(), device, stream, e.shape());
                tensors.put(e.name(), byEntry[i]);
            }
            List<ParallelFileReader.Range> pieces = pieces(file, header, options);
            long readNanos = 0;
            if (!pieces.isEmpty()) {
                int threads = Math.min(options.threads(), pieces.size());
                reader = ParallelFileReader.open(file, new ParallelFileReader.Options(threads, options.queueDepth(), options.chunkBytes(),
                        device.isCuda()));
                Scatter scatter = new Scatter(header, byEntry, pieces);
                sink = device.isCpu() ? new HostSink(scatter, options.progress())
                        : new DeviceSink(scatter, options.progress(), device, stream, reader.iovs(), reader.options());
                long t1 = System.nanoTime();
                long[] got = reader.read(pieces, sink, null);
                sink.finish();
                readNanos = System.nanoTime() - t1;
                for (int i = 0; i < got.length; i++) {
                    if (got[i] != pieces.get(i).length()) {
                        throw new UsrbioException(file + ": the file ended early: " + got[i] + " of " + pieces.get(i).length()
                                + " bytes at offset " + pieces.get(i).offset() + " (did it change while loading?)");
                    }
                }
            }
            return new LoadedCheckpoint(file, device, header, tensors, System.nanoTime() - t0, readNanos);
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            // Copies still in flight read the iovs and write the tensors: they end (sink.close) before either goes.
            Throwable f = closeQuietly(sink, failure);
            f = closeQuietly(reader, f);
            if (f != null) {
                for (Tensor t : tensors.values()) {
                    f = closeQuietly(t, f);
                }
                if (failure == null) {
                    throw (RuntimeException) f; // a close failed after a good load: nothing is handed out
                }
            }
        }
    }

    /** Closes {@code c}; returns {@code failure}, with what close threw added (or that, when there was none). */
    private static Throwable closeQuietly(AutoCloseable c, Throwable failure) {
        if (c == null) {
            return failure;
        }
        try {
            c.close();
        } catch (Exception e) {
            RuntimeException r = e instanceof RuntimeException re ? re : new IllegalStateException(e);
            if (failure == null) {
                return r;
            }
            failure.addSuppressed(r);
        }
        return failure;
    }

    /**
     * The data area in pieces at 4 KiB-aligned offsets (the first starts at or before the data, in the header),
     * about one per thread but between one and four iovs' worth each: big enough that each worker's queue
     * stays full, small enough that the workers finish together.
     */
    static List<ParallelFileReader.Range> pieces(Path file, SafetensorsHeader header, Options options) {
        long start = header.dataStart() & ~4095L;
        long end = header.dataStart() + header.dataBytes();
        List<ParallelFileReader.Range> out = new ArrayList<>();
        if (header.dataBytes() == 0) {
            return out;
        }
        long chunk = options.chunkBytes();
        long iov = chunk * options.queueDepth();
        long share = Math.ceilDiv(Math.ceilDiv(end - start, options.threads()), chunk) * chunk;
        long piece = Math.clamp(share, iov, 4 * iov);
        for (long s = start; s < end; s += piece) {
            out.add(new ParallelFileReader.Range(file, s, Math.min(piece, end - s)));
        }
        return out;
    }

    /** Where the bytes of a chunk of the file go: the tensors it overlaps. */
    static final class Scatter {
        final Tensor[] tensors;
        final long[] begins; // relative to the data area, ascending
        final long[] ends;   // ascending too: the tensors tile the data area
        final long[] pieceStarts;
        final long dataStart;

        Scatter(SafetensorsHeader header, Tensor[] tensors, List<ParallelFileReader.Range> pieces) {
            this.tensors = tensors;
            List<SafetensorsHeader.Entry> entries = header.entries();
            begins = new long[entries.size()];
            ends = new long[entries.size()];
            for (int i = 0; i < begins.length; i++) {
                begins[i] = entries.get(i).begin();
                ends[i] = entries.get(i).end();
            }
            pieceStarts = pieces.stream().mapToLong(ParallelFileReader.Range::offset).toArray();
            dataStart = header.dataStart();
        }

        interface Copy {
            /** {@code bytes} bytes from {@code srcOffset} in the chunk to {@code dstOffset} in tensor {@code tensor}. */
            void copy(int tensor, long dstOffset, long srcOffset, long bytes);
        }

        /** Calls {@code copy} for each tensor that chunk {@code [offsetInPiece, + bytes)} of piece {@code piece} overlaps; returns the data bytes. */
        long scatter(int piece, long offsetInPiece, long bytes, Copy copy) {
            long a = pieceStarts[piece] + offsetInPiece - dataStart; // negative in the header's bytes
            long b = a + bytes;
            int lo = 0, hi = ends.length; // the first tensor that ends after a
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (ends[mid] > a) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            long total = 0;
            for (int i = lo; i < ends.length && begins[i] < b; i++) {
                long from = Math.max(a, begins[i]);
                long to = Math.min(b, ends[i]);
                if (to > from) { // empty tensors have nothing to copy
                    copy.copy(i, from - begins[i], from - a, to - from);
                    total += to - from;
                }
            }
            return total;
        }
    }

    private abstract static class Sink implements ParallelFileReader.ChunkSink, AutoCloseable {
        final Scatter scatter;
        final LongConsumer progress;

        Sink(Scatter scatter, LongConsumer progress) {
            this.scatter = scatter;
            this.progress = progress;
        }

        /** After the read: wait for what the sink still has in flight. */
        void finish() {}

        @Override
        public void close() {}
    }

    /** Copies each chunk into the host tensors on the worker's thread. */
    private static final class HostSink extends Sink {
        private final MemorySegment[] segments;

        HostSink(Scatter scatter, LongConsumer progress) {
            super(scatter, progress);
            segments = new MemorySegment[scatter.tensors.length];
            for (int i = 0; i < segments.length; i++) {
                segments[i] = scatter.tensors[i].segment();
            }
        }

        @Override
        public void accept(int range, long offsetInRange, MemorySegment data, int worker) {
            long n = scatter.scatter(range, offsetInRange, data.byteSize(),
                    (t, dst, src, bytes) -> MemorySegment.copy(data, src, segments[t], dst, bytes));
            if (progress != null && n > 0) {
                progress.accept(n);
            }
        }
    }

    /**
     * Copies each chunk from the worker's page-locked iov to the device on the worker's stream; an event per
     * half of each iov marks the end of the copies out of it.
     */
    private static final class DeviceSink extends Sink {
        private final int ordinal;
        private final long[] dstAddresses;
        private final long[] iovBases;
        private final long halfBytes;
        private final CudaStream[] streams;
        private final CudaEvent[][] halves;
        private final boolean[] deviceSet;

        DeviceSink(Scatter scatter, LongConsumer progress, Device device, CudaStream stream, List<UsrbioIov> iovs,
                   ParallelFileReader.Options reading) {
            super(scatter, progress);
            int workers = iovs.size();
            ordinal = device.index();
            dstAddresses = new long[scatter.tensors.length];
            for (int i = 0; i < dstAddresses.length; i++) {
                dstAddresses[i] = scatter.tensors[i].address();
            }
            iovBases = new long[workers];
            for (int w = 0; w < workers; w++) {
                iovBases[w] = iovs.get(w).segment().address();
            }
            halfBytes = (long) reading.queueDepth() / 2 * reading.chunkBytes(); // the reader's slots, not the iov's (maybe rounded) size
            streams = new CudaStream[workers];
            halves = new CudaEvent[workers][2];
            deviceSet = new boolean[workers];
            try {
                CudaDevice gpu = Cuda.device(ordinal);
                // The tensors come from a pool in the order of the caller's stream: the copies wait for that point.
                try (CudaEvent allocated = stream.recordEvent()) {
                    for (int w = 0; w < workers; w++) {
                        streams[w] = CudaStream.create(gpu);
                        streams[w].waitFor(allocated);
                        halves[w][0] = CudaEvent.create(gpu, false);
                        halves[w][1] = CudaEvent.create(gpu, false);
                    }
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        @Override
        public void accept(int range, long offsetInRange, MemorySegment data, int worker) {
            if (!deviceSet[worker]) {
                Cuda.useDevice(ordinal); // a worker thread's current device is the one its stream is on
                deviceSet[worker] = true;
            }
            CudaStream s = streams[worker];
            long src = data.address();
            long n = scatter.scatter(range, offsetInRange, data.byteSize(), (t, dst, off, bytes) ->
                    Cuda.check(CudaRuntime.cudaMemcpyAsync(MemorySegment.ofAddress(dstAddresses[t] + dst), MemorySegment.ofAddress(src + off),
                            bytes, CudaRuntime.cudaMemcpyDefault(), s.handle()), "cudaMemcpyAsync(host to device, " + bytes + " bytes)"));
            if (n > 0) {
                // Re-recorded after each chunk: the event then marks the last copy out of this half so far.
                halves[worker][(int) ((src - iovBases[worker]) / halfBytes)].record(s);
                if (progress != null) {
                    progress.accept(n);
                }
            }
        }

        @Override
        public void release(int worker, int half) {
            halves[worker][half].synchronize(); // returns at once when never recorded
        }

        @Override
        void finish() {
            for (CudaStream s : streams) {
                s.synchronize();
            }
        }

        /** Waits for every copy (ignoring the errors of a failed run: the first one is already on its way) and frees. */
        @Override
        public void close() {
            RuntimeException first = null;
            for (CudaStream s : streams) {
                if (s != null) {
                    try {
                        s.synchronize();
                    } catch (RuntimeException e) {
                        first = first == null ? e : first;
                    }
                }
            }
            for (CudaEvent[] pair : halves) {
                for (CudaEvent e : pair) {
                    if (e != null) {
                        try {
                            e.close();
                        } catch (RuntimeException ex) {
                            first = first == null ? ex : first;
                        }
                    }
                }
            }
            for (CudaStream s : streams) {
                if (s != null) {
                    try {
                        s.close();
                    } catch (RuntimeException e) {
                        first = first == null ? e : first;
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }
}

package io.infra4j.deepep;

import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaEvent;
import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.Device;
import java.util.ArrayList;
import java.util.List;

/**
 * Where each rank of a one-process group runs: its GPU and stream. Simulated ranks share one stream, so
 * the order of their launches is the order of the work; ranks on their own GPUs (or streams) are ordered
 * by events: {@link #barrier} is the group's barrier, with no host waiting.
 */
final class RankStreams {
    private final List<CudaStream> streams;
    private final List<Device> devices;
    private final boolean shared;

    private RankStreams(List<CudaStream> streams) {
        this.streams = List.copyOf(streams);
        List<Device> d = new ArrayList<>();
        boolean same = true;
        for (CudaStream s : streams) {
            d.add(Device.cuda(s.device()));
            same &= s == streams.get(0);
        }
        this.devices = List.copyOf(d);
        this.shared = same;
    }

    /** W ranks on one stream (and its GPU). */
    static RankStreams shared(int world, CudaStream stream) {
        if (stream == null) {
            throw new IllegalArgumentException("stream: expected a CudaStream, got null");
        }
        if (stream.isLegacyDefault()) {
            throw new IllegalArgumentException("stream: expected a stream made by CudaStream.create, got the legacy default stream");
        }
        List<CudaStream> s = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            s.add(stream);
        }
        return new RankStreams(s);
    }

    /** Rank r on {@code streams.get(r)} and its GPU. */
    static RankStreams of(List<CudaStream> streams) {
        if (streams == null || streams.isEmpty()) {
            throw new IllegalArgumentException("streams: expected one stream per rank, got " + (streams == null ? "null" : "none"));
        }
        for (int r = 0; r < streams.size(); r++) {
            CudaStream s = streams.get(r);
            if (s == null || s.isClosed() || s.isLegacyDefault()) {
                throw new IllegalArgumentException("streams[" + r + "]: expected an open stream made by CudaStream.create, got "
                        + (s == null ? "null" : s.isClosed() ? "a closed one" : "the legacy default stream"));
            }
        }
        return new RankStreams(streams);
    }

    int size() {
        return streams.size();
    }

    CudaStream stream(int rank) {
        return streams.get(rank);
    }

    Device device(int rank) {
        return devices.get(rank);
    }

    boolean isShared() {
        return shared;
    }

    /** Makes rank r's GPU current, for its launches and allocations. */
    void use(int rank) {
        Cuda.useDevice(devices.get(rank).index());
    }

    /** Every rank's stream waits for what is queued so far on every other rank's. */
    void barrier() {
        if (shared) {
            return;
        }
        List<CudaEvent> done = record();
        try {
            for (int r = 0; r < streams.size(); r++) {
                use(r);
                for (int q = 0; q < streams.size(); q++) {
                    if (streams.get(q) != streams.get(r)) {
                        streams.get(r).waitFor(done.get(q));
                    }
                }
            }
        } finally {
            done.forEach(CudaEvent::close); // released once the waits are done
        }
    }

    /** Every other rank's stream waits for what is queued so far on rank r's (r's work fans out). */
    void fanOut(int r) {
        if (shared) {
            return;
        }
        use(r);
        try (CudaEvent done = streams.get(r).recordEvent()) {
            for (int q = 0; q < streams.size(); q++) {
                if (streams.get(q) != streams.get(r)) {
                    use(q);
                    streams.get(q).waitFor(done);
                }
            }
        }
    }

    /** Rank r's stream waits for what is queued so far on every other rank's (the others' work joins r). */
    void join(int r) {
        if (shared) {
            return;
        }
        List<CudaEvent> done = new ArrayList<>();
        try {
            for (int q = 0; q < streams.size(); q++) {
                if (streams.get(q) != streams.get(r)) {
                    use(q);
                    done.add(streams.get(q).recordEvent());
                }
            }
            use(r);
            for (CudaEvent e : done) {
                streams.get(r).waitFor(e);
            }
        } finally {
            done.forEach(CudaEvent::close);
        }
    }

    private List<CudaEvent> record() {
        List<CudaEvent> out = new ArrayList<>();
        try {
            for (int r = 0; r < streams.size(); r++) {
                use(r);
                out.add(streams.get(r).recordEvent());
            }
        } catch (RuntimeException e) {
            out.forEach(CudaEvent::close);
            throw e;
        }
        return out;
    }
}

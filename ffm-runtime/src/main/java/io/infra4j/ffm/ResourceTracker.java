package io.infra4j.ffm;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every native resource that infra4j hands out (device, pinned and host buffers, streams, events,
 * graphs) registers here when made and leaves when closed, so that what was never closed can be
 * listed: {@link #report()} or, at exit, with {@code -Dinfra4j.leaks=report}.
 *
 * <p>Registration is a map insertion; the stack trace of where each resource was made is recorded
 * only with {@code -Dinfra4j.leaks=trace} (or {@code INFRA4J_LEAKS=trace}), as it costs microseconds.
 */
public final class ResourceTracker {
    /** How much the tracker records and when it speaks. */
    public enum Mode {
        /** Counts only; no report at exit. */
        COUNT,
        /** Report what is still open when the JVM exits. */
        REPORT,
        /** Report at exit, with the stack trace of where each leaked resource was made. */
        TRACE
    }

    /** One live resource. */
    public record Entry(long id, String kind, String description, long bytes, long createdNanos, Throwable site) {
        @Override
        public String toString() {
            String s = String.format(Locale.ROOT, "#%d %s %s%s", id, kind, description,
                    bytes > 0 ? " (" + bytes + " bytes)" : "");
            return s;
        }
    }

    private static final ConcurrentHashMap<Long, Entry> LIVE = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_ID = new AtomicLong(1);
    private static final Mode MODE = readMode();

    static {
        if (MODE != Mode.COUNT) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                String r = report();
                if (!LIVE.isEmpty()) {
                    System.err.println(r);
                }
            }, "infra4j-leak-report"));
        }
    }

    private ResourceTracker() {}

    private static Mode readMode() {
        String v = System.getProperty("infra4j.leaks", System.getenv("INFRA4J_LEAKS"));
        if (v == null || v.isBlank()) {
            return Mode.COUNT;
        }
        try {
            return Mode.valueOf(v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            System.err.println("infra4j: infra4j.leaks=" + v + " is not one of count, report, trace; using count");
            return Mode.COUNT;
        }
    }

    public static Mode mode() {
        return MODE;
    }

    /** Records a resource that was just made; keep the id to {@link #release(long)} it. */
    public static long register(String kind, String description, long bytes) {
        long id = NEXT_ID.getAndIncrement();
        Throwable site = MODE == Mode.TRACE ? new Throwable("made here") : null;
        LIVE.put(id, new Entry(id, kind, description, bytes, System.nanoTime(), site));
        return id;
    }

    /** Records that the resource was closed. Releasing twice is a bug of the caller and throws. */
    public static void release(long id) {
        if (LIVE.remove(id) == null) {
            throw new IllegalStateException("resource #" + id + " was released twice or never registered");
        }
    }

    /** Resources now open, oldest first. */
    public static List<Entry> live() {
        List<Entry> out = new ArrayList<>(LIVE.values());
        out.sort(Comparator.comparingLong(Entry::id));
        return out;
    }

    /** Resources now open of one kind. */
    public static List<Entry> live(String kind) {
        return live().stream().filter(e -> e.kind().equals(kind)).toList();
    }

    /** Bytes held by open resources of one kind. */
    public static long liveBytes(String kind) {
        long sum = 0;
        for (Entry e : LIVE.values()) {
            if (e.kind().equals(kind)) {
                sum += e.bytes();
            }
        }
        return sum;
    }

    /** A readable list of what is open now: the leak report. */
    public static String report() {
        List<Entry> entries = live();
        if (entries.isEmpty()) {
            return "infra4j: no native resources open";
        }
        StringBuilder sb = new StringBuilder();
        sb.append("infra4j: ").append(entries.size()).append(" native resource(s) never closed:\n");
        for (Entry e : entries) {
            sb.append("  ").append(e).append('\n');
            if (e.site() != null) {
                for (StackTraceElement el : e.site().getStackTrace()) {
                    sb.append("      at ").append(el).append('\n');
                }
            }
        }
        if (MODE != Mode.TRACE) {
            sb.append("  (run with -Dinfra4j.leaks=trace to see where each was made)\n");
        }
        return sb.toString();
    }
}

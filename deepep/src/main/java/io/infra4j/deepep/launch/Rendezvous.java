package io.infra4j.deepep.launch;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The small TCP rendezvous that gives every rank the bytes rank 0 made (an NCCL or NVSHMEM unique
 * id): rank 0 listens on {@code MASTER_PORT}, every other rank connects (retrying while rank 0 is not
 * up yet), says who it is, and receives the bytes once all {@code WORLD_SIZE - 1} have arrived. Every
 * wait has a deadline; a rendezvous that cannot complete raises {@link RendezvousException} saying
 * which rank waited for what.
 */
public final class Rendezvous {
    private static final int MAGIC = 0x1F4E_7C01;
    private static final int OK = 0;
    private static final int REFUSED = 1;
    /** The most bytes a rendezvous carries (unique ids are 128 bytes). */
    public static final int MAX_PAYLOAD = 1 << 20;

    private Rendezvous() {}

    /**
     * Rank 0's {@code payload}, on every rank. Rank 0 passes the bytes; the others pass null (ignored).
     *
     * @throws RendezvousException when the ranks do not all meet within {@code timeout}, or disagree
     *                             on the world size, or two processes claim the same rank
     */
    public static byte[] share(RankEnvironment env, byte[] payload, Duration timeout) {
        Objects.requireNonNull(env, "env");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: expected a positive duration, got " + timeout);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        if (env.rank() == 0) {
            Objects.requireNonNull(payload, "payload: rank 0 must give the bytes to share");
            if (payload.length > MAX_PAYLOAD) {
                throw new IllegalArgumentException("payload: at most " + MAX_PAYLOAD + " bytes, got " + payload.length);
            }
            return env.worldSize() == 1 ? payload.clone() : serve(env, payload, deadline, timeout);
        }
        return join(env, deadline, timeout);
    }

    private static byte[] serve(RankEnvironment env, byte[] payload, long deadline, Duration timeout) {
        TreeMap<Integer, Socket> arrived = new TreeMap<>();
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(env.masterPort()));
            while (arrived.size() < env.worldSize() - 1) {
                int left = remainingMillis(deadline);
                if (left <= 0) {
                    throw new RendezvousException("rendezvous: rank 0 waited " + timeout.toSeconds() + " s on port " + env.masterPort()
                            + " for ranks " + missing(env.worldSize(), arrived.keySet()) + " of " + env.worldSize()
                            + " (arrived: " + arrived.keySet() + ")");
                }
                server.setSoTimeout(left);
                Socket s;
                try {
                    s = server.accept();
                } catch (SocketTimeoutException e) {
                    continue; // the deadline check above reports it
                }
                s.setSoTimeout(Math.max(1, remainingMillis(deadline)));
                int rank;
                try {
                    rank = hello(s, env);
                } catch (IOException e) {
                    s.close(); // not one of ours, or it went away: keep waiting for the real ranks
                    continue;
                }
                if (arrived.containsKey(rank)) {
                    refuse(s, "rank " + rank + " has already joined");
                    throw new RendezvousException("rendezvous: two processes claim rank " + rank);
                }
                arrived.put(rank, s);
            }
            for (Socket s : arrived.values()) {
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                out.writeInt(OK);
                out.writeInt(payload.length);
                out.write(payload);
                out.flush();
            }
            return payload.clone();
        } catch (IOException e) {
            throw new RendezvousException("rendezvous: rank 0 could not serve on port " + env.masterPort() + ": " + e.getMessage(), e);
        } finally {
            for (Socket s : arrived.values()) {
                closeQuietly(s);
            }
        }
    }

    // Reads a joining rank's greeting; refuses (and throws) one that disagrees on the world size.
    private static int hello(Socket s, RankEnvironment env) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        if (in.readInt() != MAGIC) {
            throw new IOException("not an infra4j rendezvous");
        }
        int rank = in.readInt();
        int world = in.readInt();
        if (world != env.worldSize()) {
            refuse(s, "world size " + world + " differs from rank 0's " + env.worldSize());
            throw new RendezvousException("rendezvous: rank " + rank + " says the world has " + world + " ranks, rank 0 says "
                    + env.worldSize());
        }
        if (rank < 1 || rank >= env.worldSize()) {
            refuse(s, "rank " + rank + " is outside [1, " + env.worldSize() + ")");
            throw new RendezvousException("rendezvous: a process joined as rank " + rank + ", outside [1, " + env.worldSize() + ")");
        }
        return rank;
    }

    private static void refuse(Socket s, String why) {
        try (s) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            byte[] msg = why.getBytes(StandardCharsets.UTF_8);
            out.writeInt(REFUSED);
            out.writeInt(msg.length);
            out.write(msg);
            out.flush();
        } catch (IOException ignored) {
            // the refusal is reported on rank 0's side too
        }
    }

    private static byte[] join(RankEnvironment env, long deadline, Duration timeout) {
        String where = env.masterAddr() + ":" + env.masterPort();
        IOException last = null;
        while (remainingMillis(deadline) > 0) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(env.masterAddr(), env.masterPort()), Math.min(1000, Math.max(1, remainingMillis(deadline))));
                s.setSoTimeout(Math.max(1, remainingMillis(deadline)));
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                out.writeInt(MAGIC);
                out.writeInt(env.rank());
                out.writeInt(env.worldSize());
                out.flush();
                DataInputStream in = new DataInputStream(s.getInputStream());
                int status;
                try {
                    status = in.readInt();
                } catch (SocketTimeoutException e) {
                    throw new RendezvousException("rendezvous: rank " + env.rank() + " reached rank 0 at " + where + " but got no id within "
                            + timeout.toSeconds() + " s (rank 0 waits for all " + env.worldSize() + " ranks)", e);
                } catch (EOFException e) {
                    throw new RendezvousException("rendezvous: rank 0 at " + where + " closed the connection before sending the id to rank "
                            + env.rank() + " (it gave up waiting for another rank?)", e);
                }
                int n = in.readInt();
                if (n < 0 || n > MAX_PAYLOAD) {
                    throw new RendezvousException("rendezvous: rank 0 at " + where + " announced " + n + " bytes");
                }
                byte[] bytes = in.readNBytes(n);
                if (bytes.length != n) {
                    throw new RendezvousException("rendezvous: rank 0 at " + where + " sent " + bytes.length + " of " + n + " bytes");
                }
                if (status != OK) {
                    throw new RendezvousException("rendezvous: rank 0 refused rank " + env.rank() + ": " + new String(bytes, StandardCharsets.UTF_8));
                }
                return bytes;
            } catch (IOException e) {
                last = e; // rank 0 not listening yet: try again shortly
                sleep(Math.min(100, remainingMillis(deadline)));
            }
        }
        throw new RendezvousException("rendezvous: rank " + env.rank() + " could not reach rank 0 at " + where + " within "
                + timeout.toSeconds() + " s" + (last == null ? "" : " (last error: " + last.getMessage() + ")"), last);
    }

    private static List<Integer> missing(int world, Set<Integer> arrived) {
        List<Integer> out = new ArrayList<>();
        for (int r = 1; r < world; r++) {
            if (!arrived.contains(r)) {
                out.add(r);
            }
        }
        return out;
    }

    private static int remainingMillis(long deadline) {
        long ms = (deadline - System.nanoTime()) / 1_000_000L;
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, ms));
    }

    private static void sleep(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RendezvousException("rendezvous: interrupted", e);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
    }
}

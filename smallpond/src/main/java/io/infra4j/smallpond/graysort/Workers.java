package io.infra4j.smallpond.graysort;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/** Runs one task on several platform threads and rethrows the first failure as it was thrown. */
final class Workers {
    interface Task {
        /** @param failed true once some worker has failed: stop taking new work */
        void run(BooleanSupplier failed) throws IOException;
    }

    private Workers() {}

    static void run(int threads, String namePrefix, Task task) throws IOException {
        Throwable[] first = new Throwable[1];
        AtomicBoolean failed = new AtomicBoolean();
        List<Thread> started = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            started.add(Thread.ofPlatform().name(namePrefix + t).start(() -> {
                try {
                    task.run(failed::get);
                } catch (Throwable e) {
                    failed.set(true);
                    synchronized (first) {
                        if (first[0] == null) {
                            first[0] = e;
                        } else {
                            first[0].addSuppressed(e);
                        }
                    }
                }
            }));
        }
        boolean interrupted = false;
        for (Thread t : started) {
            while (true) {
                try {
                    t.join(); // always wait for all: a worker may still hold a buffer or an open file
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable e;
        synchronized (first) {
            e = first[0];
        }
        switch (e) {
            case null -> {}
            case IOException io -> throw io;
            case RuntimeException re -> throw re;
            case Error err -> throw err;
            default -> throw new IllegalStateException(e); // Task throws no other checked exception
        }
    }
}

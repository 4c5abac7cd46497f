package io.infra4j.smallpond.arrow;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The memory behind a batch, counted: the batch holds one reference, every exported ArrowArray struct one more
 * (dropped by its release callback), so the memory is freed (or the producer's release called) exactly once,
 * when the last of them lets go, on whichever thread that is.
 */
final class Owner {
    private final AtomicInteger refs = new AtomicInteger(1);
    private final Runnable free;

    Owner(Runnable free) {
        this.free = free;
    }

    void retain() {
        int r;
        do {
            r = refs.get();
            if (r <= 0) {
                throw new IllegalStateException("the batch's memory is already released");
            }
        } while (!refs.compareAndSet(r, r + 1));
    }

    void release() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            free.run();
        } else if (r < 0) {
            throw new IllegalStateException("the batch's memory was released more than once");
        }
    }
}

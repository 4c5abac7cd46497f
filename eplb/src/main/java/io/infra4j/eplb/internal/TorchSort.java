package io.infra4j.eplb.internal;

/**
 * PyTorch's CPU {@code sort(descending=True)} of one float32 row, reproduced step for step so that
 * tied loads come out in upstream's order. PyTorch hands (value, index) pairs to libstdc++'s
 * {@code std::sort} with the comparator "a is NaN and b is not, or a > b": introsort (median-of-three
 * quicksort with an unguarded partition, heap sort past a depth limit of 2 floor(log2 n)) down to
 * runs of 16, then an insertion sort over everything. That order is deterministic but not stable
 * for n > 16, so neither a stable sort nor {@code Arrays.sort} gives the same answer on ties.
 */
final class TorchSort {
    private static final int THRESHOLD = 16;

    private final float[] key;
    private final int[] index;
    /** Without NaNs the comparator is plain '>', which is cheaper in the inner loops. */
    private final boolean hasNaN;

    private TorchSort(float[] values) {
        key = values.clone();
        boolean nan = false;
        for (float v : values) {
            nan |= Float.isNaN(v);
        }
        hasNaN = nan;
        index = new int[values.length];
        for (int i = 0; i < index.length; i++) {
            index[i] = i;
        }
    }

    /** The indices of {@code values} in PyTorch's descending order. */
    static int[] argsortDescending(float[] values) {
        TorchSort s = new TorchSort(values);
        int n = values.length;
        if (n > 1) {
            s.introsortLoop(0, n, 2 * (31 - Integer.numberOfLeadingZeros(n)));
            s.finalInsertionSort(0, n);
        }
        return s.index;
    }

    /** The comparator: does a sort before b? */
    private boolean before(float a, float b) {
        return hasNaN ? (Float.isNaN(a) && !Float.isNaN(b)) || a > b : a > b;
    }

    private void swap(int i, int j) {
        float k = key[i];
        key[i] = key[j];
        key[j] = k;
        int x = index[i];
        index[i] = index[j];
        index[j] = x;
    }

    private void move(int from, int to) {
        key[to] = key[from];
        index[to] = index[from];
    }

    private void introsortLoop(int first, int last, int depthLimit) {
        while (last - first > THRESHOLD) {
            if (depthLimit == 0) {
                heapSort(first, last);
                return;
            }
            depthLimit--;
            int cut = unguardedPartitionPivot(first, last);
            introsortLoop(cut, last, depthLimit);
            last = cut;
        }
    }

    private int unguardedPartitionPivot(int first, int last) {
        int mid = first + (last - first) / 2;
        moveMedianToFirst(first, first + 1, mid, last - 1);
        return unguardedPartition(first + 1, last, first);
    }

    private void moveMedianToFirst(int result, int a, int b, int c) {
        if (before(key[a], key[b])) {
            if (before(key[b], key[c])) {
                swap(result, b);
            } else if (before(key[a], key[c])) {
                swap(result, c);
            } else {
                swap(result, a);
            }
        } else if (before(key[a], key[c])) {
            swap(result, a);
        } else if (before(key[b], key[c])) {
            swap(result, c);
        } else {
            swap(result, b);
        }
    }

    private int unguardedPartition(int first, int last, int pivot) {
        while (true) {
            while (before(key[first], key[pivot])) {
                first++;
            }
            last--;
            while (before(key[pivot], key[last])) {
                last--;
            }
            if (!(first < last)) {
                return first;
            }
            swap(first, last);
            first++;
        }
    }

    private void finalInsertionSort(int first, int last) {
        if (last - first > THRESHOLD) {
            insertionSort(first, first + THRESHOLD);
            for (int i = first + THRESHOLD; i < last; i++) {
                unguardedLinearInsert(i);
            }
        } else {
            insertionSort(first, last);
        }
    }

    private void insertionSort(int first, int last) {
        for (int i = first + 1; i < last; i++) {
            if (before(key[i], key[first])) {
                float k = key[i];
                int x = index[i];
                System.arraycopy(key, first, key, first + 1, i - first);
                System.arraycopy(index, first, index, first + 1, i - first);
                key[first] = k;
                index[first] = x;
            } else {
                unguardedLinearInsert(i);
            }
        }
    }

    private void unguardedLinearInsert(int last) {
        float k = key[last];
        int x = index[last];
        int next = last - 1;
        while (before(k, key[next])) {
            move(next, last);
            last = next;
            next--;
        }
        key[last] = k;
        index[last] = x;
    }

    // std::__partial_sort(first, last, last): make_heap, then sort_heap.
    private void heapSort(int first, int last) {
        int len = last - first;
        if (len >= 2) {
            for (int parent = (len - 2) / 2; ; parent--) {
                adjustHeap(first, parent, len, key[first + parent], index[first + parent]);
                if (parent == 0) {
                    break;
                }
            }
        }
        while (len > 1) {
            len--;
            // pop_heap: the top goes to the end; the old end value sinks from the root.
            float k = key[first + len];
            int x = index[first + len];
            move(first, first + len);
            adjustHeap(first, 0, len, k, x);
        }
    }

    private void adjustHeap(int base, int hole, int len, float k, int x) {
        int top = hole;
        int second = hole;
        while (second < (len - 1) / 2) {
            second = 2 * (second + 1);
            if (before(key[base + second], key[base + second - 1])) {
                second--;
            }
            move(base + second, base + hole);
            hole = second;
        }
        if ((len & 1) == 0 && second == (len - 2) / 2) {
            second = 2 * (second + 1);
            move(base + second - 1, base + hole);
            hole = second - 1;
        }
        // push_heap
        int parent = (hole - 1) / 2;
        while (hole > top && before(key[base + parent], k)) {
            move(base + parent, base + hole);
            hole = parent;
            parent = (hole - 1) / 2;
        }
        key[base + hole] = k;
        index[base + hole] = x;
    }
}

"""How this machine's throughput grows with busy cores, apart from any engine: N processes at once each run
pure integer work (no memory traffic) and then 64 MiB memory copies. Where the integer loop stops growing
linearly, the cores are not independent (shared physical cores, a CPU quota); where only the copies stop, it is
memory bandwidth. Used beside the GraySort scaling figures (run-gpu.sh run-pond)."""
import multiprocessing as mp
import time

import numpy as np


def spin(n):
    t = time.perf_counter()
    x = 0
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return time.perf_counter() - t


def copy(n):
    a = np.ones(64 << 20, dtype=np.uint8)
    b = np.empty_like(a)
    b[:] = a  # touch both before timing
    t = time.perf_counter()
    for _ in range(n):
        b[:] = a
    return time.perf_counter() - t


def main():
    cores = mp.cpu_count()
    counts = [p for p in (1, 2, 4, 8, 16, 32, 64, 128) if p <= cores]
    for name, work, arg, per_call, unit in (("integer loop", spin, 5_000_000, 5.0, "M steps/s"),
                                            ("64 MiB copies", copy, 40, 40 * 64 / 1024, "GiB/s")):
        base = None
        for p in counts:
            with mp.Pool(p) as pool:
                times = pool.map(work, [arg] * p)
            rate = p * per_call / max(times)
            base = base or rate
            print(f"{name:14s} {p:3d} processes: {rate:8.2f} {unit} in all, {rate / base:5.2f}x one process")


if __name__ == "__main__":
    main()

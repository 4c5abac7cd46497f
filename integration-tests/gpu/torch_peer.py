"""PyTorch peer of the foundation benchmarks: the same element-wise operations, sizes and timing
method as io.infra4j.benchmarks.foundation.FoundationBenchmarks (CUDA events, 5 warm-ups, median of
30 runs, L2 flushed before each run), on the same GPU, in the same device command.

usage: python3 torch_peer.py --out torch-peer.json [--elements 268435456]
"""
import argparse
import json
import math
import statistics

import torch


def timed(fn, flush, warmup=5, runs=30):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    ms = []
    for _ in range(runs):
        flush.zero_()
        start.record()
        fn()
        end.record()
        end.synchronize()
        ms.append(start.elapsed_time(end))
    return statistics.median(ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--elements", type=int, default=1 << 28)
    a = ap.parse_args()
    n = a.elements
    dev = torch.device("cuda", 0)
    props = torch.cuda.get_device_properties(dev)
    flush = torch.empty(max(2 * getattr(props, "L2_cache_size", 64 << 20), 1 << 20), dtype=torch.uint8, device=dev)

    g = torch.Generator(device=dev).manual_seed(1234)
    exps = torch.randint(-20, 12, (n,), device=dev, generator=g).to(torch.float32)
    f32 = ((torch.rand(n, device=dev, generator=g) * 2 - 1) * torch.exp2(exps)).contiguous()
    del exps
    f32b = torch.empty_like(f32)
    bf16 = f32.to(torch.bfloat16)
    bf16b = torch.empty_like(bf16)
    f16 = torch.empty(n, dtype=torch.float16, device=dev)
    e4m3 = f32.clamp(-448, 448).to(torch.float8_e4m3fn)
    e5m2 = torch.empty(n, dtype=torch.float8_e5m2, device=dev)
    host = torch.empty(n, dtype=torch.float32, pin_memory=True)
    side = int(math.isqrt(n))
    square = bf16[: side * side].view(side, side)
    square_out = bf16b[: side * side].view(side, side)

    ops = {
        "copy_d2d_f32": (8 * n, lambda: f32b.copy_(f32)),
        "fill_f32": (4 * n, lambda: f32b.fill_(1.0)),
        "fill_bf16": (2 * n, lambda: bf16b.fill_(1.0)),
        "cast_f32_bf16": (6 * n, lambda: bf16b.copy_(f32)),
        "cast_bf16_f32": (6 * n, lambda: f32b.copy_(bf16)),
        "cast_f32_f16": (6 * n, lambda: f16.copy_(f32)),
        # PyTorch has no saturating FP8 cast: users clamp first (two kernels), as timed here.
        "cast_f32_e4m3_sat": (5 * n, lambda: e4m3.copy_(f32.clamp(-448.0, 448.0))),
        "cast_e4m3_f32": (5 * n, lambda: f32b.copy_(e4m3)),
        "cast_f32_e5m2": (5 * n, lambda: e5m2.copy_(f32)),
        "cast_bf16_e4m3_sat": (3 * n, lambda: e4m3.copy_(bf16.clamp(-448.0, 448.0))),
        f"transpose_bf16_{side}x{side}": (4 * side * side, lambda: square_out.copy_(square.t())),
        "h2d_pinned_f32": (4 * n, lambda: f32b.copy_(host, non_blocking=True)),
        "d2h_pinned_f32": (4 * n, lambda: host.copy_(f32, non_blocking=True)),
    }
    results = {}
    for name, (nbytes, fn) in ops.items():
        ms = timed(fn, flush)
        results[name] = {"median_ms": ms, "bytes": nbytes, "gb_per_s": nbytes / (ms * 1e-3) / 1e9}
        print(f"{name:32s} {ms:9.4f} ms {nbytes / (ms * 1e-3) / 1e9:9.1f} GB/s", flush=True)
    out = {"torch": torch.__version__, "cuda": torch.version.cuda, "gpu": props.name, "elements": n, "ops": results}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()

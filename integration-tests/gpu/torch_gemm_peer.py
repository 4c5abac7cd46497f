"""PyTorch peer of the FP8 GEMM benchmarks (DeepGEMM's shapes): torch._scaled_mm with e4m3 operands and
row-wise FP32 scales (scale_a [m, 1], scale_b [1, n]), BF16 out, B passed as b.t() so that it is
column-major -- cuBLASLt's FP8 GEMM as a PyTorch user reaches it. Timed with CUDA events on the same GPU
in the same device command: warm-ups first, a 256 MiB buffer written before each run to flush L2 (outside
the timed region), the median of at least 20 runs. TFLOPS = 2 * m * n * k / time, summed over groups.

Grouped shapes (mixture of experts) run one _scaled_mm per group back to back inside the timed region, as
a PyTorch user without a grouped GEMM would; each group has its own A rows and its own B.

usage: python3 torch_gemm_peer.py --shape dense:4096,7168,2048 --shape grouped:4x8192,4096,7168 [--out peer.json]
       python3 torch_gemm_peer.py --configs shapes.json [--out peer.json]
  --shape dense:M,N,K                 one GEMM D[M, N] = A[M, K] B[N, K]^T
  --shape grouped:M1+M2+...,N,K       one GEMM per group, Mi rows each (or GxM for G groups of M rows)
  shapes.json: [{"name": "...", "kind": "dense", "m": 4096, "n": 7168, "k": 2048},
                {"name": "...", "kind": "grouped", "ms": [8192, 8192], "n": 4096, "k": 7168}, ...]
                ("grouped" also takes "groups" and "m" for equal groups; "name" is optional)
Prints one JSON object per shape, one per line; with --out, also writes them all to a file. A shape that
torch cannot run (no _scaled_mm, no row-wise scaling on this GPU or build, a size it refuses, out of
memory) gets an "error" field instead of a time; the script still ends with status 0.
"""
import argparse
import json
import statistics
import sys

import torch

FLUSH_BYTES = 256 << 20
# torch.OutOfMemoryError since 2.5, torch.cuda.OutOfMemoryError before; both are RuntimeErrors.
OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", getattr(torch.cuda, "OutOfMemoryError", MemoryError))


def parse_shape(text):
    """'dense:M,N,K' or 'grouped:M1+M2,N,K' / 'grouped:GxM,N,K' -> a config dict."""
    kind, _, dims = text.partition(":")
    parts = dims.split(",")
    if kind not in ("dense", "grouped") or len(parts) != 3:
        raise ValueError(f"--shape {text!r}: expected dense:M,N,K or grouped:M1+M2+...,N,K or grouped:GxM,N,K")
    m, n, k = parts
    if kind == "dense":
        return {"name": text, "kind": "dense", "m": int(m), "n": int(n), "k": int(k)}
    if "x" in m:
        g, rows = m.split("x", 1)
        ms = [int(rows)] * int(g)
    else:
        ms = [int(x) for x in m.split("+")]
    return {"name": text, "kind": "grouped", "ms": ms, "n": int(n), "k": int(k)}


def normalise(c):
    """A config with 'ms' (rows per group; one group for dense), 'n', 'k', 'kind' and 'name'."""
    c = dict(c)
    kind = c.get("kind", "dense")
    if kind == "dense":
        ms = [int(c["m"])]
    elif kind == "grouped":
        ms = [int(x) for x in c["ms"]] if "ms" in c else [int(c["m"])] * int(c["groups"])
    else:
        raise ValueError(f"config {c}: kind must be dense or grouped")
    c.update(kind=kind, ms=ms, n=int(c["n"]), k=int(c["k"]))
    c.setdefault("name", f"{kind}:{'+'.join(map(str, ms))},{c['n']},{c['k']}")
    return c


def scaled_mm(a, b_t, scale_a, scale_b, fast_accum):
    # torch 2.1-2.4 returned (out, amax); later versions return out.
    out = torch._scaled_mm(a, b_t, scale_a=scale_a, scale_b=scale_b, out_dtype=torch.bfloat16,
                           use_fast_accum=fast_accum)
    return out[0] if isinstance(out, tuple) else out


def operands(m, n, k, dev, gen):
    """Random e4m3 A [m, k] and B [n, k] (row-major), positive FP32 scales 2^uniform(-3, 3)."""
    a = (torch.randn(m, k, device=dev, generator=gen) * 4).to(torch.float8_e4m3fn)
    b = (torch.randn(n, k, device=dev, generator=gen) * 4).to(torch.float8_e4m3fn)
    scale_a = torch.exp2(torch.rand(m, 1, device=dev, generator=gen) * 6 - 3)
    scale_b = torch.exp2(torch.rand(1, n, device=dev, generator=gen) * 6 - 3)
    return a, b.t(), scale_a, scale_b  # b.t(): [k, n] column-major, as _scaled_mm wants its second operand


def warm_up(dev, seconds=1.0):
    """Large FP8 GEMMs for about a second before the first timing, as the Java side does: the first
    shapes must not measure the clocks coming up from idle or cuBLASLt's first plans."""
    import time
    a = torch.randn(4096, 7168, device=dev).to(torch.float8_e4m3fn)
    b = torch.randn(7168, 7168, device=dev).to(torch.float8_e4m3fn)
    sa = torch.ones(4096, 1, device=dev)
    sb = torch.ones(1, 7168, device=dev)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            torch._scaled_mm(a, b.t(), scale_a=sa, scale_b=sb, out_dtype=torch.bfloat16)
            torch.cuda.synchronize(dev)
    except (RuntimeError, AttributeError) as e:  # the shapes' own errors are reported per shape
        print(json.dumps({"warm_up_error": repr(e)}), flush=True)


def timed(fn, flush, warmup, runs):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    ms = []
    for _ in range(runs):
        flush.fill_(1)  # write 256 MiB: what the run reads is no longer in L2 (queued before the start event)
        start.record()
        fn()
        end.record()
        end.synchronize()
        ms.append(start.elapsed_time(end))
    return statistics.median(ms)


def run_config(c, dev, gen, flush, args):
    base = {"name": c["name"], "kind": c["kind"], "n": c["n"], "k": c["k"], "groups": len(c["ms"]),
            "fast_accum": args.fast_accum}
    base.update({"m": c["ms"][0]} if c["kind"] == "dense" else {"ms": c["ms"], "m": sum(c["ms"])})
    if not hasattr(torch, "_scaled_mm"):
        return dict(base, error=f"torch {torch.__version__} has no torch._scaled_mm")
    groups = []
    try:
        groups = [operands(m, c["n"], c["k"], dev, gen) for m in c["ms"]]
        outs = [None] * len(groups)

        def once():
            for i, (a, b_t, sa, sb) in enumerate(groups):
                outs[i] = scaled_mm(a, b_t, sa, sb, args.fast_accum)

        once()  # a shape torch refuses fails here, with its own message
        median_ms = timed(once, flush, args.warmup, max(20, args.runs))
        flops = 2.0 * sum(c["ms"]) * c["n"] * c["k"]
        return dict(base, median_ms=median_ms, tflops=flops / (median_ms * 1e-3) / 1e12, runs=max(20, args.runs),
                    warmup=args.warmup)
    except OUT_OF_MEMORY as e:
        return dict(base, error="out of memory: " + str(e).splitlines()[0])
    except (RuntimeError, TypeError, ValueError, AttributeError) as e:  # NotImplementedError is a RuntimeError
        text = str(e).strip().splitlines()
        return dict(base, error=f"{type(e).__name__}: " + (text[0] if text else "(no message)"))
    finally:
        groups.clear()  # free this shape's operands before the next one's
        torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", action="append", default=[], help="dense:M,N,K or grouped:M1+M2+...,N,K (repeatable)")
    ap.add_argument("--configs", help="a JSON file with a list of shapes")
    ap.add_argument("--out", help="also write all results to this JSON file")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20, help="timed runs (at least 20)")
    ap.add_argument("--fast-accum", action="store_true", help="use_fast_accum=True (off by default: FP32 promotion)")
    ap.add_argument("--seed", type=int, default=4321)
    a = ap.parse_args()

    try:
        configs = [parse_shape(s) for s in a.shape]
        if a.configs:
            with open(a.configs) as f:
                configs += json.load(f)
        configs = [normalise(c) for c in configs]
    except (ValueError, KeyError, OSError) as e:
        ap.error(f"bad shapes: {e!r}")
    if not configs:
        ap.error("no shapes: give --shape or --configs")

    env = {"torch": torch.__version__, "cuda": torch.version.cuda}
    results = []
    if not torch.cuda.is_available():
        for c in configs:
            results.append(dict(env, name=c["name"], kind=c["kind"], error="CUDA is not available to torch"))
            print(json.dumps(results[-1]), flush=True)
    else:
        dev = torch.device("cuda", 0)
        props = torch.cuda.get_device_properties(dev)
        env.update(gpu=props.name, sm=f"{props.major}.{props.minor}")
        flush = torch.empty(FLUSH_BYTES, dtype=torch.uint8, device=dev)
        gen = torch.Generator(device=dev).manual_seed(a.seed)
        warm_up(dev)
        for c in configs:
            results.append(dict(env, **run_config(c, dev, gen, flush, a)))
            print(json.dumps(results[-1]), flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({**env, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

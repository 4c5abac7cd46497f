"""Checks infra4j's dtype codec rules against PyTorch on every input.

infra4j's CPU codec (io.infra4j.memory.DTypeCodec) and its GPU kernels follow one set of rules; the
Java tests hold both to an independent reference on all 2^32 float32 inputs. This script holds the
same rules, ported to numpy below (ours_encode / ours_decode), against PyTorch itself: every float32
bit pattern converted by torch on the CPU and on the GPU to bfloat16, float16, float8_e4m3fn and
float8_e5m2, and every narrow bit pattern converted back to float32. It reports, per format and
device, how many results differ and how (NaN inputs apart, since PyTorch's NaN bits depend on the
code path), with examples.

usage: python3 torch_codec_parity.py --out codec-parity.json [--workers 16]
"""
import argparse
import json
import multiprocessing as mp
import time

import numpy as np

np.seterr(all="ignore")  # NaN inputs make the float-add branches warn; those lanes are discarded

CHUNK = 1 << 26
FORMATS = ["bfloat16", "float16", "float8_e4m3fn", "float8_e5m2"]
U32 = np.uint32


def f32(u):
    return u.view(np.float32)


def ours_encode(fmt, u, saturate=False):
    """float32 bits (uint32 array) -> narrow bits, infra4j's rules (round to nearest even)."""
    sign = u & U32(0x80000000)
    a = u ^ sign
    nan = a > U32(0x7F800000)
    if fmt == "bfloat16":
        r = ((u + U32(0x7FFF) + ((u >> U32(16)) & U32(1))) >> U32(16)) & U32(0xFFFF)
        if saturate:
            r = np.where((r & U32(0x7FFF)) == U32(0x7F80), (r & U32(0x8000)) | U32(0x7F7F), r)
        return np.where(nan, U32(0x7FC0), r)
    if fmt == "float16":
        sub = (f32(a) + np.float32(0.5)).view(U32) - U32(0x3F000000)
        odd = (a >> U32(13)) & U32(1)
        norm = (a + U32(0xC8000FFF) + odd) >> U32(13)
        big = U32(0x7BFF) if saturate else U32(0x7C00)
        h = np.where(a >= U32(0x477FF000), big, np.where(a < U32(0x38800000), sub, norm))
        h = np.where(nan, U32(0x7E00), h)
        return ((sign >> U32(16)) | h) & U32(0xFFFF)
    if fmt == "float8_e4m3fn":
        if saturate:
            a = np.where((a >= U32(0x43E00000)) & (a <= U32(0x7F800000)), U32(0x43E00000), a)
        sub = (f32(a) + np.float32(16384.0)).view(U32) - U32(0x46800000)
        odd = (a >> U32(20)) & U32(1)
        norm = (a + U32(0xC407FFFF) + odd) >> U32(20)
        r = np.where(a >= U32(0x43F00000), U32(0x7F), np.where(a < U32(0x3C800000), sub, norm))
        return (r | (sign >> U32(24))) & U32(0xFF)
    if fmt == "float8_e5m2":
        sub = (f32(a) + np.float32(128.0)).view(U32) - U32(0x43000000)
        odd = (a >> U32(21)) & U32(1)
        norm = (a + U32(0xC80FFFFF) + odd) >> U32(21)
        big = U32(0x7B) if saturate else U32(0x7C)
        r = np.where(a >= U32(0x47700000), big, np.where(a < U32(0x38800000), sub, norm))
        r = np.where(nan, U32(0x7F), r)
        return (r | (sign >> U32(24))) & U32(0xFF)
    raise ValueError(fmt)


def ours_decode(fmt, b):
    """narrow bits (uint32 array) -> float32 bits: exact; NaNs quieted keeping sign and payload."""
    b = b.astype(U32)
    if fmt == "bfloat16":
        return b << U32(16)
    e, m, fn = {"float16": (5, 10, False), "float8_e4m3fn": (4, 3, True), "float8_e5m2": (5, 2, False)}[fmt]
    sign = (b >> U32(e + m)) << U32(31)
    exp = (b >> U32(m)) & U32((1 << e) - 1)
    man = b & U32((1 << m) - 1)
    bias = (1 << (e - 1)) - 1
    emax = (1 << e) - 1
    normal = sign | ((exp + U32(127 - bias)) << U32(23)) | (man << U32(23 - m))
    subv = (man.astype(np.float32) * np.float32(2.0 ** (1 - bias - m))).view(U32)
    r = np.where(exp == 0, sign | subv, normal)
    nanbits = sign | U32(0x7FC00000) | (man << U32(23 - m))
    if fn:
        r = np.where((exp == emax) & (man == U32((1 << m) - 1)), nanbits, r)
    else:
        r = np.where((exp == emax) & (man == 0), sign | U32(0x7F800000), r)
        r = np.where((exp == emax) & (man != 0), nanbits, r)
    return r


def torch_dtype(fmt):
    import torch
    return getattr(torch, fmt)


def unsigned(t, fmt):
    import torch
    if fmt in ("bfloat16", "float16"):
        return t.view(torch.int16).numpy().view(np.uint16).astype(U32)
    return t.view(torch.uint8).numpy().astype(U32)


def compare(fmt, u, got, ours, where):
    bad = got != ours
    isnan = (u & U32(0x7FFFFFFF)) > U32(0x7F800000)
    n_bad = int(bad.sum())
    n_bad_nan = int((bad & isnan).sum())
    ex = []
    for i in np.flatnonzero(bad)[:6]:
        ex.append({"input": f"0x{int(u[i]):08x}", "torch": f"0x{int(got[i]):x}", "infra4j": f"0x{int(ours[i]):x}"})
    return {"mismatches": n_bad, "mismatches_on_nan_inputs": n_bad_nan, "examples": ex, "where": where}


def chunk(k):
    """One slice of the inputs, converted by torch on the CPU and on the GPU, against our rules."""
    import torch
    torch.set_num_threads(1)
    u = np.arange(k * CHUNK, (k + 1) * CHUNK, dtype=np.uint64).astype(U32)
    t = torch.from_numpy(u.view(np.float32))
    tc = t.cuda() if torch.cuda.is_available() else None
    out = {}
    for fmt in FORMATS:
        ours = ours_encode(fmt, u)
        out[f"{fmt}/cpu"] = compare(fmt, u, unsigned(t.to(torch_dtype(fmt)), fmt), ours, "cpu")
        if tc is not None:
            out[f"{fmt}/cuda"] = compare(fmt, u, unsigned(tc.to(torch_dtype(fmt)).cpu(), fmt), ours, "cuda")
    return k, out


def merge(acc, part):
    acc["mismatches"] += part["mismatches"]
    acc["mismatches_on_nan_inputs"] += part["mismatches_on_nan_inputs"]
    if len(acc["examples"]) < 6:
        acc["examples"] += part["examples"][: 6 - len(acc["examples"])]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--workers", type=int, default=min(16, mp.cpu_count()))
    args = ap.parse_args()
    import torch
    t0 = time.time()
    report = {"torch": torch.__version__, "inputs": 1 << 32, "encode": {}, "decode": {}}
    for where in ("cpu", "cuda"):
        for fmt in FORMATS:
            report["encode"][f"{fmt}/{where}"] = {"mismatches": 0, "mismatches_on_nan_inputs": 0, "examples": []}
    chunks = (1 << 32) // CHUNK
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for done, (k, out) in enumerate(pool.imap_unordered(chunk, range(chunks)), 1):
            for key, part in out.items():
                merge(report["encode"][key], part)
            if done % 8 == 0:
                print(f"encode: {done}/{chunks} chunks, {time.time() - t0:.1f} s", flush=True)
    for fmt in FORMATS:
        n = 1 << (16 if fmt in ("bfloat16", "float16") else 8)
        b = np.arange(n, dtype=U32)
        ours = ours_decode(fmt, b)
        raw = torch.from_numpy(b.astype(np.uint16 if n > 256 else np.uint8).view(np.int16 if n > 256 else np.uint8))
        src = raw.view(torch_dtype(fmt))
        for where in ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",):
            got = src.to(where).to(torch.float32).cpu().numpy().view(U32)
            isnan = (ours & U32(0x7FFFFFFF)) > U32(0x7F800000)
            bad = got != ours
            report["decode"][f"{fmt}/{where}"] = {
                "patterns": n, "mismatches": int(bad.sum()), "mismatches_on_nan": int((bad & isnan).sum()),
                "examples": [{"bits": f"0x{int(i):x}", "torch": f"0x{int(got[i]):08x}", "infra4j": f"0x{int(ours[i]):08x}"}
                             for i in np.flatnonzero(bad)[:6]]}
    report["seconds"] = round(time.time() - t0, 1)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    for kind in ("encode", "decode"):
        for key, v in report[kind].items():
            nan = v.get("mismatches_on_nan_inputs", v.get("mismatches_on_nan", 0))
            print(f"{kind:6s} {key:24s} mismatches {v['mismatches']:>12,d} (on NaN inputs {nan:,d})"
                  + (f"  e.g. {v['examples'][:2]}" if v["mismatches"] else ""), flush=True)


if __name__ == "__main__":
    main()

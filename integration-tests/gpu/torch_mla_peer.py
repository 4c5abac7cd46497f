"""PyTorch peer of the MLA decode benchmark (io.infra4j.benchmarks.flashmla.MlaBenchmarks): the same
math in plain PyTorch on the same GPU in the same device command -- gather each sequence's pages
into a contiguous [b, s_k, h_kv, d] tensor, batched BF16 matmuls for the scores and the output,
softmax in FP32 with the causal mask -- timed with CUDA events (5 warm-ups, median of 20 runs, L2
flushed before each run). The gather is part of the peer's time: a paged cache has to be gathered
for matmuls to read it.

usage: python3 torch_mla_peer.py --configs configs.json --out torch-mla-peer.json
configs.json: [{"name", "b", "s_q", "h_q", "h_kv", "d", "dv", "page", "causal", "seqlens": [...]}, ...]
"""
import argparse
import json
import math
import statistics

import torch


def timed(fn, flush, warmup=5, runs=20):
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


def setup(c, dev, gen):
    b, s_q, h_q, h_kv, d, page = c["b"], c["s_q"], c["h_q"], c["h_kv"], c["d"], c["page"]
    seqlens = torch.tensor(c["seqlens"], dtype=torch.int32, device=dev)
    max_len = int(max(c["seqlens"]))
    max_blocks = (max_len + page - 1) // page
    num_blocks = b * max_blocks
    q = torch.randn(b, s_q, h_q, d, device=dev, generator=gen).to(torch.bfloat16)
    cache = torch.randn(num_blocks, page, h_kv, d, device=dev, generator=gen).to(torch.bfloat16)
    table = torch.randperm(num_blocks, device=dev, generator=gen).view(b, max_blocks).to(torch.int32)
    return q, cache, table, seqlens, max_len


def peer(c, q, cache, table, seqlens, max_len):
    b, s_q, h_q, h_kv, d, dv, page = c["b"], c["s_q"], c["h_q"], c["h_kv"], c["d"], c["dv"], c["page"]
    scale = 1.0 / math.sqrt(d)
    pos = torch.arange(max_len, device=q.device)
    # Visible keys per (batch, query token): causal rows see up to seqlen - s_q + i.
    last = (seqlens.view(b, 1, 1) - 1).expand(b, s_q, 1)
    if c["causal"]:
        last = seqlens.view(b, 1, 1) - s_q + torch.arange(s_q, device=q.device).view(1, s_q, 1)
    mask = pos.view(1, 1, max_len) <= last  # [b, s_q, s_k]

    g = h_q // h_kv
    rows_mask = mask.view(b, 1, 1, s_q, max_len).expand(b, 1, g, s_q, max_len).reshape(b, 1, g * s_q, max_len)
    # Heads grouped by KV head: [b, h_kv, g * s_q, d], rows ordered (head in group, query token).
    qg = q.view(b, s_q, h_kv, g, d).permute(0, 2, 3, 1, 4).reshape(b, h_kv, g * s_q, d)

    def run():
        kv = cache[table.long()].view(b, -1, h_kv, d)[:, :max_len]        # gather pages: [b, s_k, h_kv, d]
        k = kv.permute(0, 2, 3, 1)                                         # [b, h_kv, d, s_k]
        v = kv[..., :dv].transpose(1, 2)                                   # [b, h_kv, s_k, dv]
        s = torch.matmul(qg, k).float() * scale                            # [b, h_kv, g * s_q, s_k]
        s = s.masked_fill(~rows_mask, float("-inf"))
        lse = torch.logsumexp(s, dim=-1)
        p = torch.softmax(s, dim=-1).to(torch.bfloat16)
        o = torch.matmul(p, v)                                             # [b, h_kv, g * s_q, dv]
        return o.view(b, h_kv, g, s_q, dv).permute(0, 3, 1, 2, 4).reshape(b, s_q, h_q, dv), lse
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    dev = torch.device("cuda", 0)
    props = torch.cuda.get_device_properties(dev)
    flush = torch.empty(2 * getattr(props, "L2_cache_size", 64 << 20), dtype=torch.uint8, device=dev)
    gen = torch.Generator(device=dev).manual_seed(4321)
    results = []
    for c in json.load(open(a.configs)):
        try:
            q, cache, table, seqlens, max_len = setup(c, dev, gen)
            ms = timed(peer(c, q, cache, table, seqlens, max_len), flush)
            results.append({"name": c["name"], "ms": ms})
        except torch.OutOfMemoryError as e:
            results.append({"name": c["name"], "error": "out of memory: " + str(e).splitlines()[0]})
        finally:
            torch.cuda.empty_cache()
        print(results[-1], flush=True)
    json.dump({"torch": torch.__version__, "gpu": props.name, "results": results}, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()

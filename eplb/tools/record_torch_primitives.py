#!/usr/bin/env python3
"""Records what PyTorch's CPU kernels answer for the three order-dependent primitives EPLB relies on
(descending sort with ties, float32 row sums, argmax with ties), so that the Java reproductions in
io.infra4j.eplb (TorchSort, TorchSum, Replication.argmax) can be held to them in unit tests.

Run where PyTorch is installed (the GPU machine has it): python3 record_torch_primitives.py OUT.json
Optionally with ATEN_CPU_CAPABILITY=avx2|avx512|default to see whether the vector width changes sums.
"""
import json
import random
import sys

import torch

torch.set_num_threads(1)
rng = random.Random(20261129)


def f32(x):
    return torch.tensor(x, dtype=torch.float32)


def values(n, kind):
    if kind == "ties":
        return [float(rng.randrange(4)) for _ in range(n)]
    if kind == "few_floats":
        pool = [rng.lognormvariate(0, 2) for _ in range(3)]
        return [rng.choice(pool) for _ in range(n)]
    if kind == "ints":
        return [float(rng.randrange(1000)) for _ in range(n)]
    return [rng.lognormvariate(3, 2) for _ in range(n)]


def exact(t):
    return [float(v) for v in t.tolist()]  # float32 values, exactly representable as doubles


out = {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
       "sorts": [], "sums": [], "argmax": []}

sort_lengths = list(range(1, 41)) + [47, 64, 65, 100, 128, 200, 256, 288, 300, 512, 1000, 2048, 5000]
for n in sort_lengths:
    for kind in ("ties", "few_floats", "ints", "lognormal"):
        row = f32(values(n, kind))
        idx = row.sort(-1, descending=True).indices
        out["sorts"].append({"values": exact(row), "indices": idx.tolist()})

# Sums as EPLB takes them: weight [L, E] viewed as [L, G, E/G], summed over the last dimension.
group_sizes = list(range(1, 40)) + [48, 63, 64, 65, 127, 128, 129, 256, 511, 512, 513, 1024, 4096, 20000]
for gs in group_sizes:
    groups = 2 if gs < 5000 else 1
    layers = 3
    w = f32([[rng.lognormvariate(2, 3) for _ in range(groups * gs)] for _ in range(layers)])
    s = w.unflatten(-1, (groups, gs)).sum(-1)
    out["sums"].append({"group_size": gs, "weight": [exact(r) for r in w], "sums": [exact(r) for r in s]})

for n in (1, 2, 3, 7, 16, 17, 64, 256, 300):
    for kind in ("ties", "few_floats"):
        rows = f32([values(n, kind) for _ in range(4)])
        out["argmax"].append({"values": [exact(r) for r in rows], "indices": rows.max(dim=-1).indices.tolist()})

with open(sys.argv[1], "w") as f:
    json.dump(out, f)
print("recorded", len(out["sorts"]), "sorts,", len(out["sums"]), "sum shapes,", len(out["argmax"]),
      "argmax rows; capability", out["cpu_capability"], "torch", out["torch"])

"""PyTorch peer of the NCCL benchmark (io.infra4j.benchmarks.nccl.NcclBenchmarks): the same ops at the
same sizes through torch.distributed's NCCL backend, one process per GPU, timed the same way -- the
ranks meet at a barrier, each records a CUDA event, queues ITERS ops and records another; a run's time
is the slowest rank's; the figure is the median of RUNS runs, after WARMUP untimed ops. The all-reduce
is in place on FP32; the all-to-all is all_to_all_single (grouped sends and receives inside NCCL).

usage: python3 torch_nccl_peer.py --out torch-nccl-peer.json [--sizes-mib 1,16,64,256,1024]
NVLink multicast stays off (NCCL_NVLS_ENABLE=0 and friends), also in the child processes.
"""
import argparse
import json
import os
import statistics

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WARMUP, RUNS, ITERS = 5, 20, 5
for var, value in (("NCCL_NVLS_ENABLE", "0"), ("NVSHMEM_DISABLE_NVLS", "1"), ("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")):
    os.environ[var] = value


def rank_main(rank, n, sizes, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", rank=rank, world_size=n, device_id=torch.device("cuda", rank))
    results = []
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    for op in ("all_reduce", "all_to_all"):
        for size in sizes:
            count = size // 4
            send = torch.full((count,), float(rank + 1), dtype=torch.float32, device="cuda")
            recv = torch.empty_like(send)
            if op == "all_reduce":
                once = lambda: dist.all_reduce(send)  # noqa: E731  in place, as infra4j's benchmark
            else:
                once = lambda: dist.all_to_all_single(recv, send)  # noqa: E731
            for _ in range(WARMUP):
                once()
            torch.cuda.synchronize()
            ms = []
            for _ in range(RUNS):
                dist.barrier()
                start.record()
                for _ in range(ITERS):
                    once()
                end.record()
                end.synchronize()
                t = torch.tensor([start.elapsed_time(end)], device="cuda")
                dist.all_reduce(t, op=dist.ReduceOp.MAX)
                ms.append(t.item() / ITERS)
            med = statistics.median(ms)
            results.append({"op": op, "bytes": size, "ms": med})
            if rank == 0:
                bus = size / (med * 1e-3) / 1e9 * ((2.0 if op == "all_reduce" else 1.0) * (n - 1) / n)
                print(f"{op:10s} {size:11d} B {med:8.3f} ms busbw {bus:7.1f} GB/s", flush=True)
            del send, recv
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"gpus": n, "torch": torch.__version__, "nccl": ".".join(map(str, torch.cuda.nccl.version())),
                       "results": results}, f, indent=2)
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--sizes-mib", default="1,16,64,256,1024")
    ap.add_argument("--port", type=int, default=29531)
    a = ap.parse_args()
    n = torch.cuda.device_count()
    if n < 2:
        print(f"NCCL peer skipped: it needs 2 GPUs or more, {n} here")
        return
    sizes = [int(s) << 20 for s in a.sizes_mib.split(",")]
    print(f"PyTorch {torch.__version__}, NCCL {torch.cuda.nccl.version()}, {n} GPUs, one process each")
    mp.spawn(rank_main, args=(n, sizes, a.port, a.out), nprocs=n, join=True)


if __name__ == "__main__":
    main()

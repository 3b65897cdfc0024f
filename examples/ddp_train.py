#!/usr/bin/env python3
"""Tiny PyTorch DDP training run (gloo on CPU) for examples/pytorch-ddp.yaml.

Reads MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK, which Volcano's pytorch plugin (and kai's
local cluster) inject. Fits y = 3x + 1 with a one-weight linear model; every rank prints its loss
and rank 0 prints the learned parameters, which are identical on every rank after all-reduce.
"""
import os
import sys

try:
    import torch
    import torch.distributed as dist
except ImportError:
    print("torch is not installed: apt-get install python3-torch", file=sys.stderr)
    sys.exit(3)


def main() -> int:
    rank = int(os.environ["RANK"])
    world = int(os.environ["WORLD_SIZE"])
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1234 + rank)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(1, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(200):
        x = torch.rand(32, 1)
        y = 3 * x + 1
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"rank {rank}/{world}: final loss {loss.item():.5f}", flush=True)
    if rank == 0:
        w = model.module.weight.item()
        b = model.module.bias.item()
        print(f"learned y = {w:.3f}x + {b:.3f}", flush=True)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Tiny PyTorch DDP training run (gloo on CPU) for examples/pytorch-ddp.yaml.

Reads MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK, which Volcano's pytorch plugin (and kai's
local cluster) inject. Fits y = 3x + 1 with a one-weight linear model; every rank trains on its
own data and prints its loss and the learned parameters, which are identical on every rank
because DDP averages the gradients.

Locally, Debian's python3-torch is importable only from Debian's /usr/bin/python3: when the
`python3` found first on PATH (a pyenv or virtualenv one, say) cannot import torch, the script
runs itself again with /usr/bin/python3.
"""
import os
import sys

DEBIAN_PYTHON = "/usr/bin/python3"

try:
    import torch
    import torch.distributed as dist
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.access(DEBIAN_PYTHON, os.X_OK):
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    print(f"torch is not importable from {sys.executable}: apt-get install python3-torch", file=sys.stderr)
    sys.exit(3)


def main() -> int:
    rank = int(os.environ["RANK"])
    world = int(os.environ["WORLD_SIZE"])
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(1234 + rank)  # each rank its own data; DDP starts every rank from rank 0's weights
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(1, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    for _ in range(300):
        x = torch.rand(32, 1)
        y = 3 * x + 1
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    w = model.module.weight.item()
    b = model.module.bias.item()
    print(f"rank {rank}/{world}: final loss {loss.item():.5f}", flush=True)
    print(f"rank {rank}/{world}: learned y = {w:.6f}x + {b:.6f}", flush=True)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())

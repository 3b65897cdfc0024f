#!/usr/bin/env python3
"""Plain-Python TCP rendezvous for examples/rendezvous.yaml (no torch needed).

The master listens on MASTER_PORT; every worker connects to MASTER_ADDR:MASTER_PORT (the host
name Volcano's pytorch plugin injects, which must resolve to the master pod) and sends its RANK.
The master answers each worker with the list of ranks once all WORLD_SIZE - 1 have joined, then
everyone prints the same line and exits 0. A worker retries while the master is not up yet.
"""
import os
import socket
import sys
import time


def master(port: int, world: int) -> int:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(world)
    srv.settimeout(120)
    conns, ranks = [], [0]
    while len(conns) < world - 1:
        conn, _ = srv.accept()
        ranks.append(int(conn.makefile().readline()))
        conns.append(conn)
    joined = ",".join(str(r) for r in sorted(ranks))
    for c in conns:
        c.sendall((joined + "\n").encode())
        c.close()
    print(f"rank 0: all {world} ranks joined: {joined}", flush=True)
    return 0


def worker(addr: str, port: int, rank: int) -> int:
    deadline = time.time() + 120
    while True:
        try:
            with socket.create_connection((addr, port), timeout=5) as s:
                s.sendall(f"{rank}\n".encode())
                joined = s.makefile().readline().strip()
                print(f"rank {rank}: joined via {addr}:{port}: {joined}", flush=True)
                return 0
        except OSError as e:
            if time.time() > deadline:
                print(f"rank {rank}: cannot reach {addr}:{port}: {e}", file=sys.stderr)
                return 1
            time.sleep(0.2)


if __name__ == "__main__":
    rank = int(os.environ["RANK"])
    world = int(os.environ["WORLD_SIZE"])
    port = int(os.environ["MASTER_PORT"])
    if rank == 0:
        sys.exit(master(port, world))
    sys.exit(worker(os.environ["MASTER_ADDR"], port, rank))

#!/usr/bin/env python3
"""MPI-style host discovery for examples/mpi-job.yaml, in plain Python (no MPI install).

  mpi_hello.py worker PORT           listen on POD_IP:PORT, answer one hello, exit
  mpi_hello.py master HOSTFILE PORT  read the workers from HOSTFILE (what mpirun --hostfile reads),
                                     check MPI_HOST names the same hosts, say hello to each and
                                     print its reply

HOSTFILE is Volcano's svc plugin file, /etc/volcano/<worker task>.host. kai's local cluster
keeps the pod's files under $KAI_POD_ROOT (on Volcano the variable is unset), so the script
reads ${KAI_POD_ROOT}/etc/volcano/... in both places. Workers bind their own pod address
(POD_IP) since a job's local pods may share one network namespace.
"""
import os
import socket
import sys
import time

TIMEOUT = 120


def pod_file(path: str) -> str:
    return os.environ.get("KAI_POD_ROOT", "") + path


def worker(port: int) -> int:
    me = os.environ.get("HOSTNAME") or socket.gethostname()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((os.environ.get("POD_IP", "0.0.0.0"), port))
    srv.listen(1)
    srv.settimeout(TIMEOUT)
    conn, _ = srv.accept()
    with conn:
        greeting = conn.makefile().readline().strip()
        # Logged before answering: once the master has every answer, the job may complete and
        # stop the workers still running.
        print(f"{me}: answering '{greeting}'", flush=True)
        conn.sendall(f"hello from {me}\n".encode())
    return 0


def ask(host: str, port: int) -> str:
    deadline = time.time() + TIMEOUT
    while True:
        try:
            with socket.create_connection((host, port), timeout=5) as s:
                s.sendall(f"hello {host}\n".encode())
                return s.makefile().readline().strip()
        except OSError as e:
            if time.time() > deadline:
                raise SystemExit(f"master: cannot reach {host}:{port}: {e}")
            time.sleep(0.2)


def master(hostfile: str, port: int) -> int:
    path = pod_file(hostfile)
    with open(path) as f:
        hosts = [line.strip() for line in f if line.strip()]
    print(f"master: {len(hosts)} workers in {hostfile}: {' '.join(hosts)}", flush=True)
    mpi_host = os.environ.get("MPI_HOST", "")
    if mpi_host and sorted(mpi_host.split(",")) != sorted(hosts):
        print(f"master: MPI_HOST={mpi_host} does not match {hostfile}", file=sys.stderr)
        return 1
    ssh_config = pod_file("/root/.ssh/config")
    if os.path.exists(ssh_config):
        with open(ssh_config) as f:
            ssh_hosts = [line.split()[1] for line in f if line.startswith("Host ")]
        print(f"master: ssh plugin config names {' '.join(ssh_hosts)}", flush=True)
    for host in hosts:
        print(f"master: reply from {host}: {ask(host, port)}", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "worker":
        sys.exit(worker(int(sys.argv[2])))
    if len(sys.argv) == 4 and sys.argv[1] == "master":
        sys.exit(master(sys.argv[2], int(sys.argv[3])))
    print(__doc__, file=sys.stderr)
    sys.exit(2)

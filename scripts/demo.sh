#!/usr/bin/env bash
# The demo on the embedded local cluster, in a temporary KAI_HOME (nothing outside it is touched).
set -euo pipefail
kai="$(cd "$(dirname "${1:-build/cli/kai}")" && pwd)/$(basename "${1:-build/cli/kai}")"
cd "$(dirname "$0")/.."
export KAI_HOME="$(mktemp -d /tmp/kai-demo.XXXXXX)"
export KAI_CLUSTER=local
trap 'rm -rf "$KAI_HOME"' EXIT

step() { printf '\n\033[1m$ kai %s\033[0m\n' "$*"; "$kai" "$@"; }

echo "kai demo: local cluster in $KAI_HOME"
step cluster init --nodes 2 --cpu 16 --memory 64Gi --gpus-per-node 8
step queue create research --weight 2
step apply -f examples/queues.yaml
step job submit -f examples/hello-job.yaml
step job submit -f examples/pytorch-ddp.yaml
step job run sweep -r 4 -m 2 -R cpu=500m,memory=256Mi -L cpu=1,memory=512Mi -q research -- python3 -c 'print(42)'
step job list -A
step job view hello
step queue list
step get podgroups
step get pods
step get vcjob hello -o yaml
step job delete sweep
step cluster status
echo
echo "kai demo: done (the scheduler and runtime that make these jobs run arrive with the next issue)"

#!/usr/bin/env bash
# The demo on the embedded local cluster, in a temporary KAI_HOME (nothing outside it is touched).
# The story of gang scheduling with real processes: 2 nodes x 8 fake GPUs, 4 of them busy; two
# 8-GPU gang jobs arrive. With the gang plugin the first runs whole and the second waits whole
# (no pod of it started) until GPUs free. Without it, a plain scheduler starts both partially and
# neither can ever finish: the deadlock gang scheduling exists to prevent.
set -euo pipefail
kai="$(cd "$(dirname "${1:-build/cli/kai}")" && pwd)/$(basename "${1:-build/cli/kai}")"
cd "$(dirname "$0")/.."
export KAI_HOME="$(mktemp -d /tmp/kai-demo.XXXXXX)"
export KAI_CLUSTER=local
cleanup() { "$kai" cluster reset >/dev/null 2>&1 || true; rm -rf "$KAI_HOME"; }
trap cleanup EXIT

start=$(date +%s.%N)
say() { printf '\n\033[1m[%ss] %s\033[0m\n' "$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN{printf "%5.1f", a-b}')" "$*"; }
step() { printf '\033[2m$ kai %s\033[0m\n' "$*"; "$kai" "$@"; }
# Pods of a job that have been started (bound to a node), out of its total.
started() { "$kai" get pods -l "volcano.sh/job-name=$1" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c . || true; }
phase() { "$kai" get vcjob "$1" -o jsonpath='{.status.state.phase}'; }
wait_phase() { # job phase timeout
  for _ in $(seq 1 "$(( $3 * 10 ))"); do [ "$(phase "$1")" = "$2" ] && return 0; sleep 0.1; done
  echo "demo: $1 did not reach $2 within $3 s" >&2; return 1
}

run_pass() { # conf label
  step cluster init --nodes 2 --cpu 16 --memory 64Gi --gpus-per-node 8 --scheduler-conf "$1" --force
  say "$2: 4 of the 16 GPUs are busy"
  step job submit -f examples/demo/busy.yaml
  wait_phase busy Running 20
  say "$2: two 8-GPU gang jobs arrive, one after the other (12 GPUs free)"
  step job submit -f examples/demo/train-a.yaml
  # Submitted within the same second, two jobs are ordered by uid (as Volcano does): let the
  # first be scheduled before the second arrives, so the story is the same on every run.
  wait_phase train-a Running 20
  step job submit -f examples/demo/train-b.yaml
  sleep 1
  step get pods -o wide
  say "$2: train-a has $(started train-a)/8 pods started, train-b $(started train-b)/8"
}

echo "kai demo: local cluster in $KAI_HOME"
say "pass 1: Volcano's scheduler with the gang plugin"
run_pass examples/demo/gang.conf "gang on"
[ "$(started train-b)" = 0 ] || { echo "demo: train-b was started partially" >&2; exit 1; }
step job list
say "gang on: train-b waits whole; kai job view says why"
step job view train-b | sed -n '/Events/,$p'
step job wait train-a --timeout 60s
say "gang on: train-a finished and freed 8 GPUs; train-b starts whole"
step job wait train-b --timeout 60s
step job logs train-b --task master
step job list

say "pass 2: the same jobs without the gang plugin"
run_pass examples/demo/no-gang.conf "gang off"
b=$(started train-b)
step job list
if [ "$b" -gt 0 ] && [ "$b" -lt 8 ]; then
  say "gang off: train-b started $b of its 8 pods: they hold $b GPUs and wait for $((8 - b)) peers that cannot be placed"
  say "gang off: two such gangs, each holding part of the cluster, wait for each other forever (the deadlock the gang plugin prevents)"
else
  say "gang off: train-b started $b of its 8 pods"
fi
step job delete train-a train-b busy
step cluster status
say "kai demo: done"

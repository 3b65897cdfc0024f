#!/usr/bin/env bash
# Runs the benchmarks in bench/ and prints their figures (see README "Performance").
set -euo pipefail
build="${1:-build}"
"$build/bench/bench_store"
"$build/bench/bench_cli" "$build/cli/kai" 1000 50

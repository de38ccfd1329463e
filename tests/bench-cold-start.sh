#!/usr/bin/env bash
# Cold starts of every function beside the two baselines (tests/benches/cold_start.rs): starts moto (installed
# when missing), then builds the release binaries and runs each through a fake Lambda Runtime API.
# Arguments go to the harness: --runs N (10), --only a,b, --no-build, --smoke (one round, dev profile).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source tests/moto.sh

# A smoke run (one round, to see that the harness still works) builds everything in the dev profile.
profile=()
for arg in "$@"; do
  [ "$arg" != --smoke ] || profile=(--profile dev)
done
cargo bench --locked ${profile[@]+"${profile[@]}"} -p vellum-tests --bench cold_start -- "$@"

#!/usr/bin/env bash
# Cold starts of every function beside the two baselines (tests/benches/cold_start.rs): starts moto (installed
# when missing), then builds the release binaries and runs each through a fake Lambda Runtime API.
# Arguments go to the harness: --runs N (10), --only a,b, --no-build, --smoke (one round).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source tests/moto.sh

cargo bench --locked -p vellum-tests --bench cold_start -- "$@"

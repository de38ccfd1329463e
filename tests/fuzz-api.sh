#!/usr/bin/env bash
# Fuzzes the whole API against its OpenAPI document with schemathesis (pinned, in a virtualenv of its
# own), with every check, once per role, each as a member of a clinic of its own (seeded by
# tests/fuzz/seed.py) on a fresh local server on the embedded store: the random fuzzing phase on every
# operation the role may call, and the coverage phase (each schema's boundaries and near misses, most of
# the cases) on its share of them: each operation's boundaries are walked once, by one role that may call
# it (tests/fuzz/seed.py shares them evenly between the two queues below). Any finding fails the run. The seed is fixed (VELLUM_FUZZ_SEED to
# change it) and printed; VELLUM_FUZZ_EXAMPLES bounds the cases per operation, VELLUM_FUZZ_ROLES picks
# the roles.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seed="${VELLUM_FUZZ_SEED:-20261203}"
examples="${VELLUM_FUZZ_EXAMPLES:-15}"
read -r -a roles <<< "${VELLUM_FUZZ_ROLES:-practitioner nurse admin front_desk billing operator joiner patient}"

venv="$root/target/test-tools/fuzz-venv"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "==> installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi

cargo build --locked --quiet --workspace --bin vellum-local
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
VELLUM_ADDR="127.0.0.1:$port" VELLUM_DATA_DIR="$work/data" RUST_LOG=error target/debug/vellum-local \
  > "$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -sf "$base/v1/openapi.json" > /dev/null && break
  sleep 0.1
done

echo "==> schemathesis $("$venv/bin/schemathesis" --version | grep -Eo '[0-9.]+$'), seed $seed, $examples cases per operation"
python3 tests/fuzz/seed.py "$base" openapi.json tests/fuzz/schemathesis.toml "$work" "$seed" "${roles[@]}"
# One role's run; its report is kept under target/test-tools when it finds anything.
# One phase of a role's run over the operations its file names (none: nothing to run).
phase() {
  local role="$1" phase="$2" operations="$3"
  [ -s "$work/$role.$operations" ] || return 0
  (cd "$work/$role.cwd" && PYTHONPATH="$root/tests/fuzz" SCHEMATHESIS_HOOKS=hooks "$venv/bin/schemathesis" --no-color \
    --config-file "$work/$role.toml" run "$root/openapi.json" --url "$base" \
    --include-operation-id-regex "$(cat "$work/$role.$operations")" \
    --phases "$phase" --max-examples "$examples" --seed "$seed" --workers 1 \
    --output-truncate true >> "$work/$role.log" 2>&1)
}
fuzz() {
  local role="$1"
  if phase "$role" coverage covered && phase "$role" fuzzing operations; then
    local cases
    cases=$(grep -Eo '[0-9]+ generated' "$work/$role.log" | awk '{s += $1} END {print s + 0}')
    echo "==> schemathesis as $role: $cases generated, no failures"
  else
    cp "$work/$role.log" "$root/target/test-tools/fuzz-$role.log"
    echo "==> schemathesis as $role: FAILED"
    grep -E '^  (❌|🚫) ' "$work/$role.log" || tail -n 5 "$work/$role.log"
    touch "$work/$role.failed"
  fi
}
# Two queues at a time, each run in a process of its own (schemathesis's own threads race in Hypothesis).
rm -f "$root"/target/test-tools/fuzz-*.log
queue() {
  local parity="$1" i
  for i in "${!roles[@]}"; do
    if [ $((i % 2)) = "$parity" ]; then
      mkdir -p "$work/${roles[$i]}.cwd"
      fuzz "${roles[$i]}"
    fi
  done
}
queue 0 &
first=$!
queue 1
wait "$first"
failed=()
for role in "${roles[@]}"; do
  [ -e "$work/$role.failed" ] && failed+=("$role")
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "==> schemathesis found failures as: ${failed[*]} (their reports: target/test-tools/fuzz-<role>.log)"
  exit 1
fi
echo "==> schemathesis: no failures for any role"

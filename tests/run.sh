#!/usr/bin/env bash
# Runs Vellum's whole test suite: unit and contract tests, the black-box HTTP tests and the Lambda
# event tests, on the embedded stores and on DynamoDB, S3 and KMS served by moto (installed and started
# here), then the intake and booking pages in headless Chromium.
# Fails loudly if moto cannot be installed or started: the AWS side is never skipped.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$root/target/test-tools/moto-venv"
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "==> installing moto (server mode) into $venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
fi

# Offline checks of the deployment template (cfn-lint with the SAM transform, and checkov), in a
# virtualenv of their own: checkov beside moto would downgrade boto3.
iac="$root/target/test-tools/iac-venv"
if [ ! -x "$iac/bin/checkov" ] || [ ! -x "$iac/bin/cfn-lint" ]; then
  echo "==> installing cfn-lint and checkov into $iac"
  python3 -m venv "$iac"
  "$iac/bin/pip" install --quiet --disable-pip-version-check 'cfn-lint>=1.30,<2' 'checkov>=3.2,<4'
fi
echo "==> cfn-lint infra/template.json"
"$iac/bin/cfn-lint" infra/template.json
echo "==> checkov infra/template.json (skips and their reasons: infra/checkov.yaml)"
"$iac/bin/checkov" -f infra/template.json --config-file infra/checkov.yaml

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
log="$root/target/test-tools/moto.log"
# tests/moto_server.py: moto's server with each DynamoDB operation atomic, as on AWS (see the file).
"$venv/bin/python" tests/moto_server.py -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
      "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then
    ready=1
    break
  fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
if [ "${ready:-0}" != 1 ]; then
  echo "error: moto did not start on 127.0.0.1:$port; its log follows" >&2
  cat "$log" >&2
  exit 1
fi
echo "==> moto is serving DynamoDB, S3 and KMS on 127.0.0.1:$port"

export VELLUM_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
results="$root/target/test-tools/results.log"
status=0
cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee "$results" || status=$?
passed=$(grep -Eo '^test result: .* ([0-9]+) passed' "$results" | grep -Eo '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '; [0-9]+ failed' "$results" | grep -Eo '[0-9]+' | awk '{s += $1} END {print s + 0}')
if [ "$failed" != 0 ]; then
  echo "==> moto's own errors during the run, if any (its whole log: target/test-tools/moto.log)"
  grep -E -A12 'Traceback|" 5[0-9][0-9] ' "$log" | head -80 || true
fi

# The intake and booking pages in headless Chromium (Debian's package) driven by playwright-core, against the local
# server. Installed here when missing; the browser test fails (never skips) if they cannot be.
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Chromium (Debian package)"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
echo "==> installing playwright-core for the browser test"
(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo build --locked -p vellum-functions --bin vellum-local
browser_log="$root/target/test-tools/browser.log"
(cd tests/browser && node --test) 2>&1 | tee "$browser_log" || status=$?
browser_passed=$(grep -Eo '^# pass [0-9]+' "$browser_log" | grep -Eo '[0-9]+' || echo 0)
browser_failed=$(grep -Eo '^# fail [0-9]+' "$browser_log" | grep -Eo '[0-9]+' || echo 1)
passed=$((passed + browser_passed))
failed=$((failed + browser_failed))
echo "==> screenshots of the pages: target/browser/"
echo
echo "$passed passed, $failed failed"
exit "$status"

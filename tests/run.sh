#!/usr/bin/env bash
# Runs Vellum's whole test suite: unit and contract tests, the black-box HTTP tests and the Lambda
# event tests, on the embedded stores and on DynamoDB, S3 and KMS served by moto (installed and started
# here), the FHIR resources checked by fhir.resources and read by fhirpy, the OpenAPI document and the TypeScript client generated from it, then the intake and booking
# pages in headless Chromium, and the whole API fuzzed against its OpenAPI document (tests/fuzz-api.sh).
# Fails loudly if moto cannot be installed or started: the AWS side is never skipped.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Offline checks of the deployment template (cfn-lint with the SAM transform, checkov, and SAM's own
# transform checked for what a browser and a client meet: tests/sam/check.py), in a virtualenv of their
# own: checkov beside moto would downgrade boto3.
iac="$root/target/test-tools/iac-venv"
if [ ! -x "$iac/bin/checkov" ] || [ ! -x "$iac/bin/cfn-lint" ] || ! "$iac/bin/python" -c 'import samtranslator' 2>/dev/null; then
  echo "==> installing cfn-lint, checkov and aws-sam-translator into $iac"
  python3 -m venv "$iac"
  "$iac/bin/pip" install --quiet --disable-pip-version-check 'cfn-lint>=1.30,<2' 'checkov>=3.2,<4' \
    'aws-sam-translator>=1.100,<2'
fi
echo "==> cfn-lint infra/template.json"
"$iac/bin/cfn-lint" infra/template.json
echo "==> checkov infra/template.json (skips and their reasons: infra/checkov.yaml)"
"$iac/bin/checkov" -f infra/template.json --config-file infra/checkov.yaml
echo "==> SAM's transform of infra/template.json: CORS, routes, authorizers, permissions (tests/sam/check.py)"
"$iac/bin/python" tests/sam/check.py infra/template.json openapi.json
# The committed OpenAPI document (held to the code by the infra test) validated as OpenAPI 3.1, and the
# TypeScript client generated from it compiled with strict checks.
api="$root/target/test-tools/openapi-venv"
if [ ! -x "$api/bin/openapi-spec-validator" ]; then
  echo "==> installing openapi-spec-validator into $api"
  python3 -m venv "$api"
  "$api/bin/pip" install --quiet --disable-pip-version-check 'openapi-spec-validator==0.9.0'
fi
echo "==> openapi-spec-validator openapi.json"
"$api/bin/openapi-spec-validator" openapi.json
echo "==> the TypeScript client (clients/typescript): generated from openapi.json and compiled"
(cd clients/typescript && npm ci --no-audit --no-fund --silent && npm run --silent build)
echo "==> infra/deploy.sh on fake binaries (tests/deploy-dry-run.sh)"
bash tests/deploy-dry-run.sh

# The FHIR resources the server emits are validated with fhir.resources (R4B models), and its FHIR face
# read with fhirpy, a FHIR client library: both in a virtualenv of their own (tests/fhir/*.py).
fhir="$root/target/test-tools/fhir-venv"
if ! "$fhir/bin/python" -c 'import fhir.resources, fhirpy' 2>/dev/null; then
  echo "==> installing fhir.resources and fhirpy into $fhir"
  python3 -m venv "$fhir"
  "$fhir/bin/pip" install --quiet --disable-pip-version-check 'fhir.resources==8.3.0' 'fhirpy==2.3.1'
fi
export VELLUM_FHIR_PYTHON="$fhir/bin/python"

# moto (installed when missing) on a free loopback port; its log: target/test-tools/moto.log.
source tests/moto.sh

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
cargo build --locked --workspace --bin vellum-local
browser_log="$root/target/test-tools/browser.log"
(cd tests/browser && node --test) 2>&1 | tee "$browser_log" || status=$?
browser_passed=$(grep -Eo '^# pass [0-9]+' "$browser_log" | grep -Eo '[0-9]+' || echo 0)
browser_failed=$(grep -Eo '^# fail [0-9]+' "$browser_log" | grep -Eo '[0-9]+' || echo 1)
passed=$((passed + browser_passed))
failed=$((failed + browser_failed))
echo "==> screenshots of the pages: target/browser/"
# The whole API against its OpenAPI document, as each role: schemathesis (pinned, in a virtualenv of its own).
if bash tests/fuzz-api.sh; then
  passed=$((passed + 1))
else
  status=1
  failed=$((failed + 1))
fi
echo
echo "$passed passed, $failed failed"
exit "$status"

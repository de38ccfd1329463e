#!/usr/bin/env bash
# The performance report: runs the benchmarks of the lean functions and the pipeline, and prints every
# figure in one table with the machine it ran on (the README's Performance section shows the latest).
#
#   bash tests/bench-report.sh           # the report: about 20 minutes, plus the first release builds
#   bash tests/bench-report.sh --all-functions  # the cold starts of all 87 functions (each links for
#                                        # about two minutes in release: over an hour on two cores)
#   bash tests/bench-report.sh --smoke   # each benchmark once, briefly, in the dev profile: CI's check that
#                                        # they all still run (its figures mean nothing)
#
# The benchmarks, each of which prints its own figures beside its baseline too:
#   cold starts       tests/bench-cold-start.sh (every function beside hello-world and the SDK floor)
#   per request       cargo bench -p vellum-tests --bench pipeline (criterion, beside an empty handler)
#   photos            cargo bench -p vellum --bench photos (beside vipsthumbnail)
#   disk per call     cargo bench -p vellum --bench records_disk (beside the access event's own JSON)
#   safety check      cargo bench -p vellum --bench safety (beside the chart summary of the same chart)
#   under load        tests/bench-load.sh (wrk against the local server, beside an unrouted path)
#   FHIR $everything  cargo bench -p vellum-tests --bench fhir_everything (beside the JSON API's lists, on
#                     the embedded store and on moto)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
smoke=0
# Without --all-functions, the cold starts of a function of each kind: record reads and writes, photos, the
# Cognito trigger and a stream reader.
functions=(--only patients-get,chart-summary,patients-create,photos-get,photos-process,auth-pre-token,usage-meter)
case "${1:-}" in
  --smoke) smoke=1 ;;
  --all-functions) functions=() ;;
  "") ;;
  *) echo "unknown argument: $1 (--smoke or --all-functions)" >&2; exit 2 ;;
esac

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
step() { echo "==> $*"; "$@" 2>&1 | tee -a "$log"; }
# A benchmark that reads DynamoDB too, against a moto of its own.
with_moto() { bash -c 'root="$PWD"; source tests/moto.sh; "$@"' with_moto "$@"; }

if [ "$smoke" = 1 ]; then
  step bash tests/bench-cold-start.sh --smoke --only patients-get,chart-summary
  step cargo bench --locked --profile dev -p vellum-tests --bench pipeline -- --test
  step cargo bench --locked --profile dev --workspace --bench photos -- --smoke
  step cargo bench --locked --profile dev --workspace --bench records_disk -- --smoke
  step cargo bench --locked --profile dev --workspace --bench safety -- --smoke
  step with_moto cargo bench --locked --profile dev -p vellum-tests --bench fhir_everything -- --smoke
  cargo build --locked --workspace --bin vellum-local
  step bash tests/bench-load.sh --no-build --profile dev --seconds 2 --soak 5
else
  step bash tests/bench-cold-start.sh ${functions[@]+"${functions[@]}"}
  step cargo bench --locked -p vellum-tests --bench pipeline
  step cargo bench --locked -p vellum --bench photos
  step cargo bench --locked -p vellum --bench records_disk
  step cargo bench --locked -p vellum --bench safety
  step with_moto cargo bench --locked -p vellum-tests --bench fhir_everything
  step bash tests/bench-load.sh
fi

machine="$(python3 - <<'PY'
import os, platform
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "an unknown CPU")
mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")) / 1048576
print(f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB, Linux {platform.release()}")
PY
)"
python3 - "$log" "$machine" "$smoke" <<'PY'
import re, sys
text, machine, smoke = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3] == "1"
rows = [tuple(line[len("report: "):].split("\t")[:3]) for line in text.splitlines() if line.startswith("report: ")]
# criterion's per-request figures: the median of each benchmark of the pipeline group
for name, median, unit in re.findall(r"pipeline/([^\n]+?)\s*\n?\s*time:\s+\[\S+ \S+ ([\d.]+) (\S+)", text):
    rows.append((f"per request: {name.strip()}", median, unit))
print()
print(f"## Performance report{' (smoke run: the figures mean nothing)' if smoke else ''}")
print()
print(f"Measured on {machine}; each figure's baseline is in the same table, measured in the same run.")
print()
print("| figure | value | unit |")
print("| --- | ---: | --- |")
for figure, value, unit in rows:
    print(f"| {figure} | {value} | {unit} |")
expected = ["cold start", "photos", "disk per audited call", "safety", "load", "$everything"] + ([] if smoke else ["per request"])
missing = [kind for kind in expected if not any(figure.startswith(kind) for figure, _, _ in rows)]
if missing:
    sys.exit(f"no figures from: {', '.join(missing)}")
PY

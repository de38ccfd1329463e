#!/usr/bin/env bash
# The local server under load: the release build on the embedded store, driven by wrk on loopback.
# Reports requests/s and p50/p99 latency for audited patient reads, chart summaries and patient creates,
# beside the same server's cheapest answer (a path no route serves: no token check, no store, no audit),
# then the server's peak memory, the records file's size per audit event, and a soak of chart reads
# sampling memory as it goes.
#
#   bash tests/bench-load.sh [--seconds N (30)] [--soak N (300)] [--threads N (2)] [--connections N (16)]
#                            [--no-build] [--profile dev (a smoke run's faster build; release by default)]
#
# Prints `report:` lines (figure, value, unit, baseline) that tests/bench-report.sh gathers.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds=30 soak=300 threads=2 connections=16 build=1 profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --soak) soak="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --profile) profile="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if ! command -v wrk >/dev/null; then
  echo "==> installing wrk (Debian package)"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq wrk >/dev/null
fi
if [ "$build" = 1 ]; then
  cargo build --profile "$profile" --locked --workspace --bin vellum-local
fi
server_binary="target/$([ "$profile" = dev ] && echo debug || echo "$profile")/vellum-local"

data="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
B="http://127.0.0.1:$port"
VELLUM_DATA_DIR="$data" VELLUM_ADDR="127.0.0.1:$port" RUST_LOG=warn "$server_binary" >"$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null "$B/" && break
  sleep 0.1
done

post() { curl -sf -X POST "$B$1" -H "authorization: Bearer $2" -H 'content-type: application/json' -d "$3"; }
token() { post /v1/dev/token "" "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'; }
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
join() { post /v1/staff/join "$(token "{\"userId\":\"$1\",\"role\":\"joiner\"}")" "{\"code\":\"$2\"}" >/dev/null; }

# A clinic, its administrator and a practitioner, and a patient whose chart holds 20 entries.
operator="$(token '{"userId":"op-1","role":"operator"}')"
opened="$(post /v1/clinics "$operator" '{"name":"Load Clinic","timeZone":"Europe/Madrid","country":"ES",
  "contact":{"email":"hello@load.example"},"admin":{"displayName":"Admin"}}')"
clinic="$(echo "$opened" | field id)"
join admin-1 "$(echo "$opened" | field adminInvitationCode)"
admin="$(token "{\"clinicId\":\"$clinic\",\"userId\":\"admin-1\",\"role\":\"admin\"}")"
join dr-1 "$(post /v1/staff "$admin" '{"role":"practitioner","displayName":"Dr. Load"}' | field code)"
doctor="$(token "{\"clinicId\":\"$clinic\",\"userId\":\"dr-1\",\"role\":\"practitioner\"}")"
# The clinic's burst quota (20,000 weighted units a minute without a plan) would refuse most of the load.
curl -sf -X PUT "$B/v1/operator/clinics/$clinic/plan" -H "authorization: Bearer $operator" \
  -H 'content-type: application/json' -d '{"name":"Load test","burstUnitsPerMinute":1000000}' >/dev/null
patient="$(post /v1/patients "$admin" '{"givenName":"Ana","familyName":"Load","birthDate":"1988-04-12",
  "sexAtBirth":"female","phone":"+34600000000","email":"ana@load.example"}' | field id)"
for i in $(seq 1 10); do
  post "/v1/patients/$patient/allergies" "$doctor" \
    "{\"substance\":\"Substance $i\",\"reaction\":\"Rash\",\"severity\":\"mild\"}" >/dev/null
  post "/v1/patients/$patient/notes" "$doctor" "{\"subjective\":\"Follow-up $i\",\"plan\":\"Review in 2 weeks\"}" >/dev/null
done

lua="$data/load.lua"
cat >"$lua" <<'LUA'
-- Each request carries the bearer token; a POST gets an idempotency key of its own.
local counter = 0
local threads = {}
function setup(thread) thread:set("id", #threads); table.insert(threads, thread) end
function init(args) wrk.headers["authorization"] = "Bearer " .. os.getenv("LOAD_TOKEN") end
request = function()
  if os.getenv("LOAD_BODY") == nil then return wrk.format("GET", os.getenv("LOAD_PATH")) end
  counter = counter + 1
  local headers = {
    ["authorization"] = wrk.headers["authorization"],
    ["content-type"] = "application/json",
    ["idempotency-key"] = "load-" .. id .. "-" .. counter,
  }
  return wrk.format("POST", os.getenv("LOAD_PATH"), headers, os.getenv("LOAD_BODY"))
end
LUA

rss_peak() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }
rss_now() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }

# run NAME PATH TOKEN [BODY]: wrk for $seconds s, then its figures as report lines.
audited=0
run() {
  local name="$1" path="$2" bearer="$3" body="${4:-}" out
  out="$(env LOAD_PATH="$path" LOAD_TOKEN="$bearer" ${body:+"LOAD_BODY=$body"} \
    wrk -t "$threads" -c "$connections" -d "${seconds}s" --latency -s "$lua" "$B" 2>&1)"
  [ "$name" = unrouted ] || audited=$((audited + $(echo "$out" | awk '/requests in/ {print $1}')))
  python3 - "$name" "$out" <<'PY'
import re, sys
name, out = sys.argv[1], sys.argv[2]
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
print(f"report: load {name} requests/s\t{rate:.0f}\t/s")
print(f"report: load {name} p50\t{p50:.2f}\tms")
print(f"report: load {name} p99\t{p99:.2f}\tms")
if bad and name != "unrouted":
    sys.exit(f"{name}: {bad.group(1)} answers were errors")
PY
}
echo "==> wrk -t $threads -c $connections, ${seconds} s each, on $(nproc) cores shared with the server"
run unrouted /nothing-here ""
run "patient read" "/v1/patients/$patient" "$doctor"
run "chart summary" "/v1/patients/$patient/chart" "$doctor"
run "patient create" /v1/patients "$admin" \
  '{"givenName":"Load","familyName":"Test","birthDate":"1990-01-01","sexAtBirth":"female"}'
echo "report: load peak RSS after the runs	$(rss_peak)	MB"
size="$(stat -c %s "$data/records.redb")"
echo "report: load records file	$((size / 1048576))	MB"
echo "report: load records file per audited call	$((size / audited))	bytes"

if [ "$soak" -gt 0 ]; then
  echo "==> soak: chart reads for $soak s, memory every $((soak / 5)) s"
  LOAD_PATH="/v1/patients/$patient/chart" LOAD_TOKEN="$doctor" \
    wrk -t "$threads" -c "$connections" -d "${soak}s" -s "$lua" "$B" >"$data/soak.txt" 2>&1 &
  soaker=$!
  samples=""
  for _ in 1 2 3 4 5; do
    sleep "$((soak / 5))"
    samples="$samples $(rss_now)"
  done
  wait "$soaker"
  python3 - "$samples" "$(cat "$data/soak.txt")" "$(stat -c %s "$data/records.redb")" <<'PY'
import re, sys
samples = [float(s) for s in sys.argv[1].split()]
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", sys.argv[2]).group(1))
print("report: soak chart reads/s\t%.0f\t/s" % rate)
print("report: soak RSS samples\t%s\tMB" % " → ".join("%.0f" % s for s in samples))
print("report: soak RSS growth, last fifth\t%.0f\tMB" % (samples[-1] - samples[-2]))
print("report: soak records file\t%d\tMB" % (int(sys.argv[3]) // 1048576))
PY
fi

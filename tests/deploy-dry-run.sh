#!/usr/bin/env bash
# Offline check of infra/deploy.sh: gives every function of infra/template.json a fake bootstrap (a bare
# ELF header), runs `infra/deploy.sh --dry-run --no-build` on them, and checks the packaged template, the
# printed `sam deploy` command, and that a wrong architecture or a missing bootstrap fails naming them.
# Needs only bash and python3: cargo, aws and sam are replaced by stubs (only `sam validate` may run).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "deploy-dry-run: FAIL: $*" >&2; exit 1; }

mkdir -p "$work/bin"
for tool in cargo cargo-lambda rustc aws; do
  printf '#!/bin/sh\necho "%s must not run in a dry run with --no-build" >&2\nexit 97\n' "$tool" >"$work/bin/$tool"
done
cat >"$work/bin/sam" <<'EOF'
#!/bin/sh
[ "$1" = validate ] || { echo "sam $1 must not run in a dry run" >&2; exit 97; }
echo "$*" >>"$SAM_LOG"
EOF
chmod +x "$work/bin/"*
export PATH="$work/bin:$PATH" SAM_LOG="$work/sam.log"
unset AWS_REGION

# fake DIR MACHINE: DIR/<binary>/bootstrap for every function, an ELF header for MACHINE (183 arm64, 62 x86_64)
fake() {
  python3 - "$root/infra/template.json" "$1" "$2" <<'PY'
import json, os, sys
template, out, machine = sys.argv[1], sys.argv[2], int(sys.argv[3])
header = b"\x7fELF\x02\x01\x01" + bytes(9) + (2).to_bytes(2, "little") + machine.to_bytes(2, "little")
for res in json.load(open(template))["Resources"].values():
    if res["Type"] == "AWS::Serverless::Function":
        d = os.path.join(out, res["Metadata"]["BuildProperties"]["Binary"])
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "bootstrap"), "wb") as f:
            f.write(header + bytes(44))
        os.chmod(os.path.join(d, "bootstrap"), 0o755)
PY
}
# run NAME LAMBDA_DIR ARGS...: a dry run writing under $work/NAME, its output in $work/NAME.log
run() {
  local name="$1" lambda="$2"; shift 2
  VELLUM_LAMBDA_DIR="$lambda" VELLUM_DEPLOY_OUT="$work/$name" \
    "$root/infra/deploy.sh" --dry-run --no-build --stack vellum-test --region eu-west-1 "$@" >"$work/$name.log" 2>&1
}
has() { grep -qF -- "$2" "$work/$1.log" || fail "$1: the output lacks '$2':"$'\n'"$(cat "$work/$1.log")"; }

fake "$work/arm64" 183
fake "$work/x86_64" 62

run arm "$work/arm64" --origins https://a.example,https://b.example --messages-from m@example.com \
  --messages-identity example.com --alarm-email "" -- --profile clinic \
  || fail "arm64 dry run failed:"$'\n'"$(cat "$work/arm.log")"
for part in "sam deploy --template-file $work/arm/template.json --parameter-overrides Architecture=arm64" \
  AllowedOrigins=https://a.example,https://b.example MessagesFrom=m@example.com \
  MessagesIdentity=example.com "'AlarmEmail=\"\"'" "--stack-name vellum-test" "--region eu-west-1" \
  "--capabilities CAPABILITY_NAMED_IAM" --resolve-s3 --no-fail-on-empty-changeset "--profile clinic"; do
  has arm "$part"
done
! grep -q CursorKey "$work/arm.log" || fail "the deploy command passes CursorKey"
grep -qF -- "validate --lint --template-file $work/arm/template.json --region eu-west-1" "$SAM_LOG" \
  || fail "sam validate --lint was not run on the packaged template"

python3 - "$root/infra/template.json" "$work/arm/template.json" "$work/arm64" <<'PY' || fail "packaged template"
import json, os, sys
original, packaged, lambda_dir = (json.load(open(sys.argv[1])), json.load(open(sys.argv[2])),
                                  os.path.realpath(sys.argv[3]))
base = os.path.dirname(os.path.abspath(sys.argv[2]))
errors = []
functions = [k for k, r in original["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]
if len(functions) < 80:
    errors.append(f"only {len(functions)} functions in the template")
for key in functions:
    res = packaged["Resources"][key]
    want = os.path.join(lambda_dir, original["Resources"][key]["Metadata"]["BuildProperties"]["Binary"])
    code = os.path.realpath(os.path.join(base, res["Properties"]["CodeUri"]))
    if code != want or not os.path.isfile(os.path.join(code, "bootstrap")):
        errors.append(f"{key}: CodeUri {res['Properties']['CodeUri']} is not {want} with a bootstrap")
    if "checkov" in original["Resources"][key]["Metadata"] and "checkov" not in res.get("Metadata", {}):
        errors.append(f"{key}: the checkov metadata is gone")
    # Apart from CodeUri and the build metadata, the function is unchanged.
    res, orig = json.loads(json.dumps(res)), json.loads(json.dumps(original["Resources"][key]))
    for r in (res, orig):
        r["Properties"].pop("CodeUri")
        for k in ("BuildMethod", "BuildProperties"):
            r.get("Metadata", {}).pop(k, None)
        if not r.get("Metadata", True):
            del r["Metadata"]
    if res != orig:
        errors.append(f"{key}: changed beyond CodeUri and the build metadata")
for key in set(original["Resources"]) - set(functions):
    if packaged["Resources"].get(key) != original["Resources"][key]:
        errors.append(f"{key}: changed")
if {k: v for k, v in packaged.items() if k != "Resources"} != {k: v for k, v in original.items() if k != "Resources"}:
    errors.append("the template's parameters, outputs or other sections changed")
text = json.dumps(packaged)
for word in ("BuildMethod", "BuildProperties", "rust-cargolambda"):
    if word in text:
        errors.append(f"{word} is still in the packaged template")
if errors:
    sys.exit("\n".join(errors))
PY

run x86 "$work/x86_64" --arch x86_64 || fail "x86_64 dry run failed:"$'\n'"$(cat "$work/x86.log")"
has x86 "--parameter-overrides Architecture=x86_64 --stack-name"
! grep -q arm64 "$work/x86.log" || fail "the x86_64 dry run mentions arm64"

if run mixed "$work/arm64" --arch x86_64; then fail "arm64 binaries were accepted for --arch x86_64"; fi
has mixed "functions have a $work/arm64/<function>/bootstrap that is no Linux x86_64 executable"

rm "$work/arm64/appointments-cancel/bootstrap" "$work/arm64/audit-list/bootstrap"
if run missing "$work/arm64"; then fail "a missing bootstrap was accepted"; fi
has missing "2 of "
has missing "functions have no $work/arm64/<function>/bootstrap"
has missing "  appointments-cancel, audit-list"
! grep -q "sam deploy" "$work/missing.log" || fail "a failed dry run printed the deploy command"

if run bad-stack "$work/x86_64" --arch x86_64 --stack Vellum; then fail "an upper-case stack name was accepted"; fi
has bad-stack "lower case"
if run long-stack "$work/x86_64" --arch x86_64 --stack "vellum-$(printf 'x%.0s' {1..40})"; then
  fail "a stack name too long for the role names was accepted"
fi
has long-stack "too long"

echo "deploy-dry-run: ok"

#!/usr/bin/env bash
# Builds every Vellum function once with cargo-lambda and deploys infra/template.json with `sam deploy`.
# The template is copied to target/deploy/template.json with each function's code pointing at its
# target/lambda/<binary>/ directory, so SAM uploads and updates only the functions whose binary changed.
# Run with --help for the options. (The tests point VELLUM_LAMBDA_DIR at other binaries and
# VELLUM_DEPLOY_OUT at another output directory.)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage() {
  cat <<'EOF'
Usage: infra/deploy.sh --stack NAME --region REGION [options] [-- sam deploy options]

Builds every function in release mode with cargo-lambda (one cargo run: the first build links each
function with LTO and takes about an hour on two cores; later builds relink only what changed), then
deploys infra/template.json with `sam deploy`, which uploads only the functions whose binary changed.

  --stack NAME             stack name (required): short and lower case, since roles are named
                           <stack>-<function>, at most 64 characters
  --region REGION          AWS region (required unless AWS_REGION is set)
  --arch arm64|x86_64      CPU architecture of the functions (default arm64)
  --origins URL[,URL...]   web origins allowed to call the API, e.g. https://app.example.com
  --messages-from ADDR     address messages to patients are sent from, e.g. messages@example.com
  --messages-identity ID   its verified SES identity (a domain or the address), e.g. example.com
  --alarm-email ADDR       address that receives alarms (optional)
  --public-url URL         https:// base of patients' links (optional; default: the API's domain)
  --no-build               deploy the binaries target/lambda already holds
  --dry-run                build, write the packaged template, lint it with `sam validate --lint`
                           when sam is installed, and print the `sam deploy` command instead
  -h, --help               show this help

The first deploy needs --origins, --messages-from and --messages-identity; later deploys keep the
previous value of every parameter not given ("" clears an optional one). Anything after `--` goes
to `sam deploy` as is, e.g. `-- --profile clinic --no-confirm-changeset`.

Needs: Rust and its target for the architecture (rustup target add aarch64-unknown-linux-gnu for
arm64), cargo-lambda (cargo install cargo-lambda --locked), Zig (pip install ziglang into the python3
first on PATH, or zig on PATH), the AWS CLI with credentials, and the AWS SAM CLI.
EOF
}

die() { echo "deploy.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"; }
param() {
  case "$2" in *[[:space:]]*) die "the value of $1 cannot contain spaces: $2" ;; esac
  params+=("$1=${2:-\"\"}")
}

stack="" region="${AWS_REGION:-}" arch="arm64" build=1 dry_run=0
params=() sam_extra=()
while [ $# -gt 0 ]; do
  opt="$1"; shift
  case "$opt" in
    -h|--help) usage; exit 0 ;;
    --no-build) build=0; continue ;;
    --dry-run) dry_run=1; continue ;;
    --) sam_extra=("$@"); break ;;
    --stack|--region|--arch|--origins|--messages-from|--messages-identity|--alarm-email|--public-url)
      [ $# -gt 0 ] || die "$opt needs a value (see --help)"; value="$1"; shift ;;
    *) die "unknown argument: $opt (see --help)" ;;
  esac
  case "$opt" in
    --stack) stack="$value" ;;
    --region) region="$value" ;;
    --arch) arch="$value" ;;
    --origins) param AllowedOrigins "$value" ;;
    --messages-from) param MessagesFrom "$value" ;;
    --messages-identity) param MessagesIdentity "$value" ;;
    --alarm-email) param AlarmEmail "$value" ;;
    --public-url) param PublicUrl "$value" ;;
  esac
done

case "$arch" in
  arm64) cargo_arch="--arm64" triple="aarch64-unknown-linux-gnu" elf_machine=183 ;;
  x86_64) cargo_arch="--x86-64" triple="x86_64-unknown-linux-gnu" elf_machine=62 ;;
  *) die "--arch must be arm64 or x86_64, not $arch" ;;
esac
[ -n "$stack" ] || die "--stack NAME is required (see --help)"
[ -n "$region" ] || die "--region REGION is required (or set AWS_REGION)"
[[ "$stack" =~ ^[a-z][a-z0-9-]*$ ]] || die "the stack name must be lower case letters, digits and -, starting with a letter: $stack"

need python3 "the template is rewritten with it"
template="$root/infra/template.json"
longest="$(python3 -c 'import json, sys; print(max(len(r["Metadata"]["BuildProperties"]["Binary"])
  for r in json.load(open(sys.argv[1]))["Resources"].values() if r["Type"] == "AWS::Serverless::Function"))' "$template")"
limit=$((64 - 1 - longest))
[ "${#stack}" -le "$limit" ] || die "the stack name is too long: at most $limit characters (roles are named <stack>-<function>, at most 64)"

lambda_dir="${VELLUM_LAMBDA_DIR:-$root/target/lambda}"
out_dir="${VELLUM_DEPLOY_OUT:-$root/target/deploy}"
if [ "$build" = 1 ]; then
  [ -z "${VELLUM_LAMBDA_DIR:-}" ] || die "VELLUM_LAMBDA_DIR needs --no-build"
  need cargo "install Rust with rustup"
  cargo lambda --version >/dev/null 2>&1 || die "cargo-lambda is not installed: cargo install cargo-lambda --locked"
  [ -d "$(rustc --print sysroot)/lib/rustlib/$triple" ] || die "the Rust target $triple is missing: rustup target add $triple"
  command -v zig >/dev/null 2>&1 || python3 -m ziglang version >/dev/null 2>&1 \
    || die "Zig is not reachable: pip install ziglang for $(command -v python3), or put zig on PATH"
fi
if [ "$dry_run" = 0 ]; then
  need aws "install the AWS CLI and configure credentials"
  need sam "install the AWS SAM CLI"
fi

if [ "$build" = 1 ]; then
  echo "==> cargo lambda build --release $cargo_arch (a full build takes about an hour on two cores)"
  cargo lambda build --release "$cargo_arch"
fi

# The packaged template: each function's code is its built directory, and its build metadata is gone.
packaged="$out_dir/template.json"
python3 - "$template" "$lambda_dir" "$out_dir" "$elf_machine" "$arch" <<'PY'
import json, os, sys, textwrap
template, lambda_dir, out_dir, elf_machine, arch = sys.argv[1:]
doc = json.load(open(template))
missing, wrong, total = [], [], 0
for res in doc["Resources"].values():
    if res["Type"] != "AWS::Serverless::Function":
        continue
    total += 1
    meta = res["Metadata"]
    binary = meta.pop("BuildProperties")["Binary"]
    meta.pop("BuildMethod", None)
    if not meta:
        del res["Metadata"]
    code = os.path.abspath(os.path.join(lambda_dir, binary))
    bootstrap = os.path.join(code, "bootstrap")
    if not os.path.isfile(bootstrap):
        missing.append(binary)
        continue
    with open(bootstrap, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF" or int.from_bytes(head[18:20], "little") != int(elf_machine):
        wrong.append(binary)
    res["Properties"]["CodeUri"] = os.path.relpath(code, os.path.abspath(out_dir))
def fail(names, what):
    listing = textwrap.fill(", ".join(names), 100, initial_indent="  ", subsequent_indent="  ",
                            break_on_hyphens=False)
    sys.exit(f"deploy.sh: {len(names)} of {total} functions {what}:\n{listing}")
where = os.path.join(os.path.abspath(lambda_dir), "<function>", "bootstrap")
if missing:
    fail(missing, f"have no {where} (build them, or drop --no-build)")
if wrong:
    fail(wrong, f"have a {where} that is no Linux {arch} executable (built for another --arch?)")
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "template.json"), "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
PY
echo "==> wrote $packaged"

params=("Architecture=$arch" ${params[@]+"${params[@]}"})
deploy=(sam deploy --template-file "$packaged" --parameter-overrides "${params[@]}"
  --stack-name "$stack" --region "$region" --capabilities CAPABILITY_NAMED_IAM
  --resolve-s3 --no-fail-on-empty-changeset ${sam_extra[@]+"${sam_extra[@]}"})

if [ "$dry_run" = 1 ]; then
  if command -v sam >/dev/null 2>&1; then
    sam validate --lint --template-file "$packaged" --region "$region"
  else
    echo "==> sam is not installed: not linting the packaged template"
  fi
  echo "==> dry run; the deploy command would be:"
  python3 -c 'import shlex, sys; print(shlex.join(sys.argv[1:]))' "${deploy[@]}"
  exit 0
fi
echo "==> sam deploy: stack $stack in $region ($arch)"
exec "${deploy[@]}"

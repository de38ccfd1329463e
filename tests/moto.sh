# Installs moto (server mode) into its own virtualenv when missing and starts it on a free loopback port, with
# each DynamoDB operation atomic as on AWS (tests/moto_server.py). Sourced by the scripts that need it: sets
# VELLUM_TEST_AWS_ENDPOINT and the test credentials, stops moto when the script exits, and fails loudly if moto
# cannot be installed or started. Expects `root` (the repository) and `cd "$root"`.

venv="$root/target/test-tools/moto-venv"
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "==> installing moto (server mode) into $venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
log="$root/target/test-tools/moto.log"
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
echo "==> moto is serving DynamoDB, S3, KMS and Secrets Manager on 127.0.0.1:$port"

export VELLUM_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1

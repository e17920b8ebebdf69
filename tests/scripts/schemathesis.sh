#!/usr/bin/env bash
# Schemathesis (PyPI) against the admin REST API (issue #12): the idp binary on a temporary
# SQLite database, a machine client holding idp.admin, a client_credentials token, then
# `schemathesis run` on /admin/api/openapi.json with the checks not_a_server_error and
# response_schema_conformance. Any failure fails the script (and CI, which calls it).
#
# Usage: tests/scripts/schemathesis.sh   (from anywhere; builds the idp binary if needed)
# SCHEMATHESIS_MAX_EXAMPLES (default 25) bounds the examples per operation, so the run takes
# well under 3 minutes; every request goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=4.32.5
venv=tests/.venv-schemathesis
# A venv of its own: the CAS clients' tests/.venv pins other packages.
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi

cargo build -q -p idp
target_dir=$(cargo metadata --format-version 1 --no-deps | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
idp="$target_dir/debug/idp"

work=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
secret=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
# A clean environment: only the settings of this run (CI exports IDP_CI_* and IDP_TEST_*).
run_idp() {
  env -i PATH="$PATH" HOME="$work" IDP_LOG=warn IDP_ISSUER="$base" IDP_LISTEN="127.0.0.1:$port" \
    IDP_DATA_DIR="$work" IDP_THEMES_DIR="$PWD/themes" IDP_ACCESS_TOKEN_TTL=1800 \
    IDP_ARGON2_M_COST=1024 IDP_ARGON2_T_COST=1 IDP_ARGON2_P_COST=1 "$idp" "$@"
}

printf '%s\n' "$secret" | run_idp client add --id ops --grant client_credentials \
  --setting 'allowed_scopes=["idp.admin"]' --secret-stdin >/dev/null
run_idp serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done

token=$(curl -fsS -u "ops:$secret" -d grant_type=client_credentials -d scope=idp.admin "$base/token" \
  | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

status=0
"$venv/bin/schemathesis" run "$base/admin/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
  --seed 12 \
  --request-timeout 10 \
  --generation-database none \
  --no-color || status=$?
if ((status)); then
  echo "schemathesis found failures; the server's log:"
  tail -n 50 "$work/server.log"
fi
exit "$status"

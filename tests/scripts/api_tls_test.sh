#!/usr/bin/env bash
# `ingestd serve` with TLS and the listener rules: a CA and certificates made with openssl at
# test time; curl --cacert gets answers, plain HTTP to the TLS port gets none; TLS below 1.2 is
# refused; client certificates when api.tls_client_ca_file is set; SIGHUP swaps the certificate
# while an open connection keeps working; the production profile refuses plain HTTP off
# loopback unless api.allow_plaintext; a second server on a used address exits non-zero with
# "address in use"; `--listen :PORT` binds every address.
# Usage: api_tls_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

export INGESTD_DATA_DIR="$WORK/data"
export INGESTD_ADMIN_TOKEN="admin-token-0123456789abcdef"
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- certificates ---------------------------------------------------------------------------
cd "$WORK"
mkcert() {  # mkcert NAME CN CA_PREFIX [serverAuth|clientAuth]
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=ingestd test CA" -keyout ca.key -out ca.pem 2>/dev/null
mkcert server1 "ingestd-one" ca serverAuth
mkcert server2 "ingestd-two" ca serverAuth
mkcert client "a-service" ca clientAuth
cp server1.pem server.pem && cp server1.key server.key

# start_serve OUT_FILE [args...]: starts ingestd serve, sets $url (or empty) and $spid.
start_serve() {
  local out="$1"; shift
  "$BIN" serve --workers 1 "$@" > "$out" 2> "$out.log" &
  spid=$!
  pids+=("$spid")
  url=""
  for _ in $(seq 1 200); do
    line="$(head -n 1 "$out" 2>/dev/null || true)"
    if [[ "$line" == "listening on "* ]]; then url="${line#listening on }"; return 0; fi
    kill -0 "$spid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
stop_serve() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# --- HTTPS ----------------------------------------------------------------------------------
export INGESTD_TLS_CERT_FILE="$WORK/server.pem" INGESTD_TLS_KEY_FILE="$WORK/server.key"
if ! start_serve "$WORK/tls.out" --listen 127.0.0.1:0; then
  echo "FAIL - TLS server did not start"; cat "$WORK/tls.out.log"; exit 1
fi
check "prints an https URL" test "${url%%://*}" = https
port="${url##*:}"
code=$(curl -s -o "$WORK/h.json" -w '%{http_code}' --cacert ca.pem "https://127.0.0.1:$port/healthz")
check "curl --cacert: /healthz is 200" test "$code" = 200
check "the body is the health document" grep -q '"status":"ok"' "$WORK/h.json"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem -H "Authorization: Bearer $INGESTD_ADMIN_TOKEN" \
  "https://localhost:$port/v1/jobs")
check "an authenticated API call over TLS is 200" test "$code" = 200
if curl -s -m 10 -o /dev/null "http://127.0.0.1:$port/healthz"; then
  fail "plain HTTP to the TLS port must fail"
else
  pass "plain HTTP to the TLS port fails"
fi
check "the server survives plain HTTP" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem "https://127.0.0.1:$port/healthz")" = 200
if curl -s -m 10 -o /dev/null --cacert ca.pem --tlsv1.1 --tls-max 1.1 "https://127.0.0.1:$port/healthz"; then
  fail "TLS 1.1 must be refused"
else
  pass "TLS 1.1 is refused"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem --tlsv1.2 --tls-max 1.2 "https://127.0.0.1:$port/healthz")
check "TLS 1.2 works" test "$code" = 200
if curl -s -m 10 -o /dev/null --cacert ca.pem --tlsv1.2 --tls-max 1.2 --ciphers AES128-SHA "https://127.0.0.1:$port/healthz"; then
  fail "a CBC, non-forward-secret cipher must be refused"
else
  pass "a CBC, non-forward-secret cipher (AES128-SHA) is refused"
fi

# SIGHUP: an open keep-alive connection keeps working; new connections see the new certificate.
cat > "$WORK/reload.py" <<'PY'
import http.client, os, signal, ssl, sys, time
port, pid, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=f"{work}/ca.pem")
def cn(conn):
    for rdn in conn.sock.getpeercert()["subject"]:
        for k, v in rdn:
            if k == "commonName":
                return v
old = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
old.request("GET", "/healthz"); r = old.getresponse(); r.read()
assert r.status == 200, r.status
before = cn(old)
os.replace(f"{work}/server2.pem", f"{work}/server.pem")
os.replace(f"{work}/server2.key", f"{work}/server.key")
os.kill(pid, signal.SIGHUP)
after = before
for _ in range(200):
    new = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    new.request("GET", "/healthz"); r = new.getresponse(); r.read()
    assert r.status == 200, r.status
    after = cn(new); new.close()
    if after != before:
        break
    time.sleep(0.05)
old.request("GET", "/healthz"); r = old.getresponse(); r.read()
print(f"before={before} after={after} old_connection_status={r.status}")
sys.exit(0 if (before, after, r.status) == ("ingestd-one", "ingestd-two", 200) else 1)
PY
if out=$(python3 "$WORK/reload.py" "$port" "$spid" "$WORK" 2>&1); then
  pass "SIGHUP reloads the certificate without dropping an open connection ($out)"
else
  fail "SIGHUP reload: $out"
fi
check "the server still runs after SIGHUP" kill -0 "$spid"

# doctor names the transport: TLS here (the files load and match).
"$BIN" doctor --json --listen 127.0.0.1:0 > "$WORK/doctor-tls.json" 2>/dev/null || true
check "doctor: tls check ok with HTTPS" python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["checks"] if c["name"]=="tls"]; sys.exit(0 if c and c[0]["status"]=="ok" and "HTTPS" in c[0]["detail"] else 1)' "$WORK/doctor-tls.json"

# Reload with a broken key keeps the current certificate.
echo "not a key" > "$WORK/server.key"
kill -HUP "$spid"
sleep 0.5
check "a failed reload keeps serving" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem "https://127.0.0.1:$port/healthz")" = 200
check "a failed reload is logged" grep -q "reload failed" "$WORK/tls.out.log"

# Second server on the same address: refused, non-zero exit, "address in use".
cp server1.pem server.pem && cp server1.key server.key
set +e
"$BIN" serve --workers 1 --listen "127.0.0.1:$port" > "$WORK/second.out" 2> "$WORK/second.err"
rc=$?
set -e
check "a second serve on a used address exits non-zero (rc=$rc)" test "$rc" -ne 0
check "it says address in use ($(tail -n 1 "$WORK/second.err"))" grep -q "address in use" "$WORK/second.err"
stop_serve "$spid"

# --- client certificates --------------------------------------------------------------------
export INGESTD_TLS_CLIENT_CA_FILE="$WORK/ca.pem"
if start_serve "$WORK/mtls.out" --listen 127.0.0.1:0; then
  port="${url##*:}"
  if curl -s -m 10 -o /dev/null --cacert ca.pem "https://127.0.0.1:$port/healthz"; then
    fail "without a client certificate the handshake must fail"
  else
    pass "mutual TLS: no client certificate, no connection"
  fi
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem --cert client.pem --key client.key \
    "https://127.0.0.1:$port/healthz")
  check "mutual TLS: a certificate from the CA gets 200" test "$code" = 200
  stop_serve "$spid"
else
  fail "mTLS server did not start: $(cat "$WORK/mtls.out.log")"
fi
unset INGESTD_TLS_CLIENT_CA_FILE

# --- production profile and plain HTTP --------------------------------------------------------
unset INGESTD_TLS_CERT_FILE INGESTD_TLS_KEY_FILE
set +e
INGESTD_PROFILE=production "$BIN" serve --workers 1 --listen 0.0.0.0:0 > "$WORK/prod.out" 2> "$WORK/prod.err"
rc=$?
set -e
check "production refuses plain HTTP on 0.0.0.0 (rc=$rc)" test "$rc" -ne 0
check "and names api.allow_plaintext" grep -q "api.allow_plaintext" "$WORK/prod.err"
INGESTD_PROFILE=production "$BIN" doctor --json --listen 0.0.0.0:0 > "$WORK/doctor-prod.json" 2>/dev/null || true
check "doctor: plain HTTP off loopback fails in production" python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["checks"] if c["name"]=="tls"]; sys.exit(0 if c and c[0]["status"]=="fail" else 1)' "$WORK/doctor-prod.json"
INGESTD_PROFILE=production INGESTD_API_ALLOW_PLAINTEXT=true "$BIN" doctor --json --listen 0.0.0.0:0 > "$WORK/doctor-allow.json" 2>/dev/null || true
check "doctor: api.allow_plaintext is reported" python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["checks"] if c["name"]=="tls"]; sys.exit(0 if c and c[0]["status"]=="ok" and "allow_plaintext" in c[0]["detail"] else 1)' "$WORK/doctor-allow.json"
if INGESTD_PROFILE=production INGESTD_API_ALLOW_PLAINTEXT=true start_serve "$WORK/prod2.out" --listen 0.0.0.0:0; then
  pass "production with api.allow_plaintext = true serves plain HTTP"
  stop_serve "$spid"
else
  fail "production with allow_plaintext did not start: $(cat "$WORK/prod2.out.log")"
fi
if INGESTD_PROFILE=production start_serve "$WORK/prod3.out" --listen 127.0.0.1:0; then
  pass "production serves plain HTTP on loopback"
  stop_serve "$spid"
else
  fail "production on loopback did not start: $(cat "$WORK/prod3.out.log")"
fi

# --- :PORT ------------------------------------------------------------------------------------
if start_serve "$WORK/any.out" --listen :0; then
  port="${url##*:}"
  check "--listen :PORT binds every address" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200
  stop_serve "$spid"
else
  fail "--listen :0 was refused: $(cat "$WORK/any.out.log")"
fi

finish

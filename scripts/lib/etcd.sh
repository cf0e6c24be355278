# shellcheck shell=bash
# Starts and stops a throwaway single-member etcd on free loopback ports, for scripts that
# run programs against a real server (scripts/demo, scripts/check-package, scripts/examples,
# scripts/runtimes).
#   etcd_start   installs etcd ${NICE_ETCD_VERSION:-3.5} if needed, starts it with a fresh data
#                directory, waits until it is healthy and exports ETCD_ENDPOINTS=127.0.0.1:<port>
#                With ETCD_TLS_DIR set (a directory with ca.pem, server.pem, server.key, client.pem,
#                client.key, as test/harness/certs.ts makes), it serves TLS and requires client
#                certificates, and ETCD_ENDPOINTS is https://127.0.0.1:<port>.
#   etcd_stop    stops it and removes its data (idempotent; call it from the caller's EXIT trap)

NICE_ETCD_ROOT=${NICE_ETCD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

etcd_free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

etcd_start() {
  local bin port peer scheme=http tls=() ctl_tls=()
  bin=$(bash "$NICE_ETCD_ROOT/scripts/install-etcd" "${NICE_ETCD_VERSION:-3.5}" | tail -n1)
  port=$(etcd_free_port)
  peer=$(etcd_free_port)
  if [ -n "${ETCD_TLS_DIR:-}" ]; then
    scheme=https
    tls=(--cert-file "$ETCD_TLS_DIR/server.pem" --key-file "$ETCD_TLS_DIR/server.key" --trusted-ca-file "$ETCD_TLS_DIR/ca.pem" --client-cert-auth)
    ctl_tls=(--cacert "$ETCD_TLS_DIR/ca.pem" --cert "$ETCD_TLS_DIR/client.pem" --key "$ETCD_TLS_DIR/client.key")
  fi
  local url="$scheme://127.0.0.1:$port"
  ETCD_DATA=$(mktemp -d)
  "$bin/etcd" --name throwaway --data-dir "$ETCD_DATA" \
    --listen-client-urls "$url" --advertise-client-urls "$url" "${tls[@]}" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "throwaway=http://127.0.0.1:$peer" --logger zap --log-level error >"$ETCD_DATA.log" 2>&1 &
  ETCD_PID=$!
  local _
  for _ in $(seq 100); do
    "$bin/etcdctl" --endpoints "$url" "${ctl_tls[@]}" endpoint health >/dev/null 2>&1 && break
    sleep 0.1
  done
  if ! "$bin/etcdctl" --endpoints "$url" "${ctl_tls[@]}" endpoint health >/dev/null 2>&1; then
    echo "etcd did not become healthy on $url; its log:" >&2
    cat "$ETCD_DATA.log" >&2
    return 1
  fi
  echo "etcd $("$bin/etcd" --version | head -n1 | awk '{print $3}') listening on $url" >&2
  if [ "$scheme" = https ]; then export ETCD_ENDPOINTS="$url"; else export ETCD_ENDPOINTS="127.0.0.1:$port"; fi
}

etcd_stop() {
  if [ -n "${ETCD_PID:-}" ]; then
    kill "$ETCD_PID" 2>/dev/null
    wait "$ETCD_PID" 2>/dev/null || true
    ETCD_PID=
  fi
  if [ -n "${ETCD_DATA:-}" ]; then
    rm -rf "$ETCD_DATA" "$ETCD_DATA.log"
    ETCD_DATA=
  fi
}

#!/bin/sh
# Makes sure the system tools the sandbox needs are present: bubblewrap (the
# sandbox), strace (file tracing), python3 (the scripts' interpreter), and
# openssl (the tests make their own TLS certificates with it); with the
# argument `tests`, also haproxy (the tests run the multi-node proxy's
# configuration, deploy/nodes/haproxy.cfg, in front of real nodes) and Go with
# golang.org/x/mod (the transparency-log formats are checked against the
# reference sumdb/note and sumdb/tlog code).
# Installs them with apt-get when they are missing and we may (root or sudo);
# otherwise says exactly what to install. Ephemera never runs unsandboxed.
set -eu
missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
command -v strace >/dev/null 2>&1 || missing="$missing strace"
[ -x /usr/bin/python3 ] || missing="$missing python3"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ "${1:-}" = tests ]; then
  command -v haproxy >/dev/null 2>&1 || missing="$missing haproxy"
  command -v go >/dev/null 2>&1 || missing="$missing golang-go"
  [ -d /usr/share/gocode/src/golang.org/x/mod/sumdb ] || missing="$missing golang-golang-x-mod-dev"
fi
[ -z "$missing" ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" != none ]; then
    echo "ephemera: installing$missing with apt-get" >&2
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    exit 0
  fi
fi
echo "ephemera: missing system packages:$missing — install them (e.g. apt-get install$missing) and try again" >&2
exit 1

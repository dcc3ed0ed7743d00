#!/usr/bin/env bash
# Installs the Debian packages kith needs to build and test, when any is missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -eu
pkgs="build-essential cmake pkg-config python3 curl node-llhttp libuv1-dev libjansson-dev libsqlite3-dev libsodium-dev libcurl4-openssl-dev sqlite3 uthash-dev postgresql libpq-dev libsystemd-dev nginx systemd groff-base"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq $missing >/dev/null
else
    echo "deps: missing packages; run: sudo apt-get install -y$missing" >&2
    exit 1
fi

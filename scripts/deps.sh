#!/usr/bin/env bash
# Installs the Debian packages kith needs to build and test, when any is missing, and the browser
# tests' npm packages (tests/browser, from its committed package-lock.json) when node_modules is
# missing. As root it runs apt-get; otherwise it prints the exact command to run. The browser is
# Debian's chromium: nothing downloads a browser of its own.
set -eu
cd "$(dirname "$0")/.."
pkgs="build-essential cmake pkg-config python3 curl node-llhttp libuv1-dev libjansson-dev libsqlite3-dev libsodium-dev libcurl4-openssl-dev sqlite3 uthash-dev postgresql libpq-dev libqrencode-dev chromium libsystemd-dev nginx systemd groff-base"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js and npm may come from Debian's packages or from another Node.js build: ask the shell.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing$missing" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null || true
        apt-get install -y -qq $missing >/dev/null
    else
        echo "deps: missing packages; run: sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi
if [ ! -d tests/browser/node_modules ]; then
    echo "deps: npm ci in tests/browser" >&2
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

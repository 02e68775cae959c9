#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Creates (once) a virtualenv with the unmodified third-party clients the compatibility tests drive:
# pymesos (Mesos v1 scheduler API), marathon (Marathon REST API v2) and kazoo (ZooKeeper). Prints the venv's python.
#
# pymesos needs http-parser 0.9.0, whose shipped C file does not build on Python 3.11: it is regenerated with Cython.
# Usage: PY=$(scripts/python-clients.sh)   (venv in ${REGATTA_PY_VENV:-.build/python-clients})
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${REGATTA_PY_VENV:-$ROOT/.build/python-clients}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import pymesos, marathon, kazoo' 2>/dev/null; then
    echo "$VENV/bin/python"
    exit 0
fi
LOG=$(mktemp)
trap 'rm -rf "$LOG" "${WORK:-}"' EXIT
{
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
    fi
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "cython<3" setuptools wheel kazoo
    WORK=$(mktemp -d)
    "$VENV/bin/pip" download -q --no-deps --no-binary :all: -d "$WORK" http-parser==0.9.0
    tar -xzf "$WORK/http-parser-0.9.0.tar.gz" -C "$WORK"
    (cd "$WORK/http-parser-0.9.0" && "$VENV/bin/cython" -3 http_parser/parser.pyx -o http_parser/parser.c \
        && "$VENV/bin/pip" install -q --no-build-isolation .)
    "$VENV/bin/pip" install -q pymesos marathon
} >"$LOG" 2>&1 || {
    echo "python-clients.sh: installing the Python clients failed:" >&2
    tail -20 "$LOG" >&2
    exit 1
}
echo "$VENV/bin/python"

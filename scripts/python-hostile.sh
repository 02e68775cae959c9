#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Creates (once) the virtualenv the hostile-input tests use: schemathesis (property-based API testing driven by
# docs/openapi/marathon-v2.yaml), openapi-spec-validator (checks that document) and PyYAML. Prints the venv's python.
# The hostile-input corpus itself (Tests/IntegrationTests/Python/hostile_inputs.py) needs only the standard library.
#
# Usage: PY=$(scripts/python-hostile.sh)   (venv in ${REGATTA_HOSTILE_VENV:-.build/python-hostile})
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${REGATTA_HOSTILE_VENV:-$ROOT/.build/python-hostile}
# Pinned: schemathesis' Python API changes between minor versions.
PACKAGES=(schemathesis==4.32.5 openapi-spec-validator==0.7.2 PyYAML==6.0.2)
CHECK='import schemathesis, openapi_spec_validator, yaml, sys; sys.exit(0 if schemathesis.__version__ == "4.32.5" else 1)'
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "$CHECK" 2>/dev/null; then
    echo "$VENV/bin/python"
    exit 0
fi
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
{
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
    fi
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PACKAGES[@]}"
    "$VENV/bin/python" -c "$CHECK"
} >"$LOG" 2>&1 || {
    echo "python-hostile.sh: installing schemathesis failed:" >&2
    tail -20 "$LOG" >&2
    exit 1
}
echo "$VENV/bin/python"

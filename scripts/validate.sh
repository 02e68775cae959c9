#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Soundness checks, as NIO's and Hummingbird's CI run them: the code is formatted by `swift format` with the
# repository's .swift-format (NIO's rule set, 4 spaces, 120 columns) and lints clean, and every Swift file starts
# with the SPDX header. `scripts/validate.sh --fix` formats in place instead of failing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PATHS=(Sources Tests Fuzz Examples Package.swift)
if [ "${1:-}" = "--fix" ]; then
    swift format format --in-place --recursive --parallel "${PATHS[@]}"
    exit 0
fi

status=0
# Formatting: a file that `swift format` would change is a failure (the diff says how to fix it).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "${PATHS[@]}" .swift-format "$tmp/"
(cd "$tmp" && swift format format --in-place --recursive --parallel "${PATHS[@]}")
for path in "${PATHS[@]}"; do
    if ! diff -ru "$path" "$tmp/$path" > "$tmp.diff" 2>&1; then
        echo "validate: $path is not formatted as .swift-format says (run scripts/validate.sh --fix):" >&2
        head -40 "$tmp.diff" >&2
        status=1
    fi
done
rm -f "$tmp.diff"

# Lint rules that formatting cannot fix (file-scoped privacy, assignments in expressions, …).
if ! swift format lint --strict --recursive --parallel "${PATHS[@]}"; then
    echo "validate: swift format lint found problems (above)" >&2
    status=1
fi

# Headers.
missing=$(find "${PATHS[@]}" -name '*.swift' -print0 | xargs -0 grep -L 'SPDX-License-Identifier: Apache-2.0' || true)
if [ -n "$missing" ]; then
    echo "validate: files without the SPDX header:" >&2
    echo "$missing" >&2
    status=1
fi
exit "$status"

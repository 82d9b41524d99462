#!/usr/bin/env bash
# Fail when a C file differs from what clang-format makes of it.
set -u
cd "$(dirname "$0")/.."
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find src tests -name '*.[ch]'); do
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then
        echo "format: $f differs from clang-format (run: clang-format -i $f)"
        bad=1
    fi
done
exit $bad

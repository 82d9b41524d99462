#!/usr/bin/env bash
# Run each unit-test binary with a deadline; print one closing line.
set -u
pass=0
fail=0
for t in "$@"; do
    if timeout 120 "$t"; then
        pass=$((pass + 1))
    else
        echo "FAIL: $t" >&2
        fail=$((fail + 1))
    fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

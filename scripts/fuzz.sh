#!/usr/bin/env bash
# Build and run libFuzzer targets: scripts/fuzz.sh tests/fuzz/fuzz_X.c ...
#
# Each target is built with clang, ASan, UBSan and libFuzzer, linked with all
# of src/ except src/cli/main.c, into build/fuzz/, and run for FUZZ_SECONDS
# (default 30) with its corpus in build/fuzz/corpus/NAME (kept between runs;
# tests/fuzz/corpus/NAME is read as seeds when it exists). A crash leaves
# its input in build/fuzz/ and fails the script.
set -u
cd "$(dirname "$0")/.." || exit 2

seconds=${FUZZ_SECONDS:-30}
out=build/fuzz
flags="-std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fno-omit-frame-pointer"
flags="$flags -fsanitize=fuzzer,address,undefined"
flags="$flags -fno-sanitize-recover=undefined"

if [ "$#" -eq 0 ]; then
    echo "usage: scripts/fuzz.sh tests/fuzz/fuzz_NAME.c ..." >&2
    exit 2
fi
if ! command -v clang >/dev/null; then
    echo "fuzz: clang not found (libFuzzer needs it)" >&2
    exit 2
fi
mkdir -p "$out"
lib=$(find src -name '*.c' ! -path src/cli/main.c | sort)

fail=0
for target in "$@"; do
    name=$(basename "$target" .c)
    bin="$out/$name"
    corpus="$out/corpus/$name"
    seeds=()
    [ -d "tests/fuzz/corpus/$name" ] && seeds=("tests/fuzz/corpus/$name")
    mkdir -p "$corpus"
    echo "fuzz: building $name"
    # shellcheck disable=SC2086
    if ! clang $flags -o "$bin" "$target" $lib -levent -ljansson; then
        echo "fuzz: $name does not build" >&2
        fail=1
        continue
    fi
    echo "fuzz: running $name for ${seconds}s"
    if ! "$bin" -max_total_time="$seconds" -artifact_prefix="$out/$name-" \
        -print_final_stats=1 "$corpus" "${seeds[@]}" \
        >"$out/$name.log" 2>&1; then
        echo "fuzz: $name FAILED, see $out/$name.log" >&2
        tail -n 30 "$out/$name.log" >&2
        fail=1
        continue
    fi
    grep -E '^#[0-9]+[[:space:]]+DONE' "$out/$name.log" | sed "s/^/fuzz: $name: /"
done
[ "$fail" -eq 0 ]

#!/bin/sh
# Builds the native floating-point oracle (oracle/fpu/build/fpuop) with the machine's gcc.
# The result is written under a temporary name and renamed, so concurrent builds cannot tear it.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
out="$dir/build"
command -v gcc >/dev/null 2>&1 || { echo "oracle/fpu/build.sh: gcc not found; the FP oracle needs gcc" >&2; exit 127; }
mkdir -p "$out"
tmp="$out/fpuop.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# -msse4.1 for ROUNDSS/SD; -O1 keeps the asm blocks as written (they are volatile anyway).
gcc -O1 -g -Wall -Wextra -msse4.1 -o "$tmp" "$dir/fpuop.c"
mv -f "$tmp" "$out/fpuop"
trap - EXIT

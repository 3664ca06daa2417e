#!/bin/sh
# Builds the host-CPU oracle helper (oracle/cpu/build/hostcpu) with the machine's gcc.
# Static and non-PIE on purpose: switch.S addresses its data with absolute 32-bit displacements so
# that 64-bit and 32-bit compatibility-mode code reach it (the image must sit below 2 GiB).
# The result is written under a temporary name and renamed, so concurrent builds cannot tear it.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
out="$dir/build"
command -v gcc >/dev/null 2>&1 || { echo "oracle/cpu/build.sh: gcc not found; the host-CPU oracle needs gcc" >&2; exit 127; }
mkdir -p "$out"
tmp="$out/hostcpu.tmp.$$"
trap 'rm -f "$tmp"' EXIT
flags="-O2 -g -Wall -Wextra -fno-pie -no-pie -fno-stack-protector -fcf-protection=none"
# Without a static libc, a dynamic non-PIE executable still loads its image at 0x400000.
libc_a=$(gcc -print-file-name=libc.a)
[ -f "$libc_a" ] && flags="$flags -static"
gcc $flags -o "$tmp" "$dir/hostcpu.c" "$dir/switch.S"
mv -f "$tmp" "$out/hostcpu"
trap - EXIT

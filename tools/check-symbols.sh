#!/usr/bin/env bash
# Every function or variable an object of sim/ exports is declared in a
# header of sim/: what no other file uses is static. Prints each exported
# symbol that no header names and exits 1; silent and 0 when all hold.
#
#   tools/check-symbols.sh build/release/sim     (make check: check-symbols)
set -u
objects=${1:-build/release/sim}
cd "$(dirname "$0")/.." || exit 2
headers=$(find sim -name '*.h')
bad=0
while read -r obj; do
	for sym in $(nm --defined-only "$obj" | awk '$2 ~ /^[TDRB]$/ { print $3 }'); do
		if ! grep -qw -- "$sym" $headers; then
			echo "${obj#*/sim/}: $sym is not declared in any header: make it static"
			bad=1
		fi
	done
done < <(find "$objects" -name '*.o' ! -name main.o)
exit $bad

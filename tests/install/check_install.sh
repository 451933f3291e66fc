#!/usr/bin/env bash
# make check-install: `make install` into a temporary DESTDIR, then the
# installed upsim validates every installed scenario, serves the installed
# healthy.json and fleet file (ready line, a 200, exit 0), and `make
# uninstall` leaves none of our files behind.
#
#   tests/install/check_install.sh MAKE
set -euo pipefail
make_cmd=${1:-make}
prefix=/usr/local
root=$(mktemp -d "${TMPDIR:-/tmp}/upsim-install.XXXXXX")
trap 'rm -rf "$root"' EXIT
fail() { echo "check-install: $*" >&2; exit 1; }

$make_cmd --no-print-directory -s install DESTDIR="$root" PREFIX="$prefix" >/dev/null

bin=$root$prefix/bin/upsim
share=$root$prefix/share
for f in "$bin" "$share/man/man1/upsim.1" "$share/man/man5/upsim-scenario.5" \
	 "$share/bash-completion/completions/upsim" \
	 "$share/upsim/schema/upsim-scenario.schema.json" \
	 "$share/upsim/schema/upsim-fleet.schema.json" \
	 "$share/upsim/scenarios/healthy.json" \
	 "$share/upsim/scenarios/fleets/one-bad-of-three.json" \
	 "$share/doc/upsim/README.md" "$share/doc/upsim/scenarios.md"; do
	[ -f "$f" ] || fail "not installed: ${f#"$root"}"
done
[ -x "$bin" ] || fail "the installed binary is not executable"
[ "$(stat -c %a "$share/man/man1/upsim.1")" = 644 ] || fail "upsim.1 is not mode 644"
# Every installed scenario (the shipped library, not the repository's).
n=0
for f in "$share"/upsim/scenarios/*.json; do
	"$bin" validate "$f" >/dev/null || fail "installed upsim rejects ${f#"$root"}"
	n=$((n + 1))
done
[ "$n" -eq "$(ls scenarios/*.json | wc -l)" ] || fail "installed $n scenarios, expected $(ls scenarios/*.json | wc -l)"

# serve FILE-ARGS...: start the installed upsim, read its ready line, GET /
# from the address it names, and expect exit 0 when --duration ends it.
serve() {
	local line='' addr host port status='' rc
	coproc UP { exec timeout 15 "$bin" run --duration 1s "$@" 2>/dev/null; }
	local pid=$UP_PID
	IFS= read -r -t 10 line <&"${UP[0]}" || fail "no ready line from: upsim run $*"
	case $line in '{"event":"ready"'*) ;; *) fail "not a ready line: $line" ;; esac
	# The first "listen" is the (first) upstream's; a fleet's list follows.
	addr=$(grep -o '"listen":"[^"]*"' <<<"$line" | head -n 1 | cut -d'"' -f4)
	host=${addr%:*} port=${addr##*:}
	[ -n "$port" ] && [ "$port" != 0 ] || fail "no port in: $line"
	exec 3<>"/dev/tcp/$host/$port"
	printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
	IFS= read -r -t 5 status <&3 || true
	exec 3<&-
	case $status in 'HTTP/1.1 200 '*) ;; *) fail "GET / answered: $status" ;; esac
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "upsim run $* exited $rc (expected 0 after --duration)"
}
serve --listen 127.0.0.1:0 "$share/upsim/scenarios/healthy.json"
# Fleet files name their scenarios relative to themselves: still true once installed.
serve --fleet "$share/upsim/scenarios/fleets/one-bad-of-three.json"

$make_cmd --no-print-directory -s uninstall DESTDIR="$root" PREFIX="$prefix" >/dev/null
left=$(find "$root" -mindepth 1 \( ! -type d -o -name "*upsim*" \))
[ -z "$left" ] || fail "left behind by make uninstall: $left"
echo "check-install: ok ($n scenarios, run, fleet, uninstall)"

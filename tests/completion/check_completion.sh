#!/usr/bin/env bash
# make check-completion: tools/completion/upsim.bash called as bash calls
# it (COMP_WORDS, COMP_CWORD, then _upsim), in a clean bash, in a
# temporary folder; COMPREPLY checked for each case.
#
#   tests/completion/check_completion.sh tools/completion/upsim.bash
set -euo pipefail
top=$(pwd)
script=$top/${1:-tools/completion/upsim.bash}
upsim=${UPSIM_BIN:-./upsim}
[[ $upsim == /* ]] || upsim=$top/$upsim
[ -x "$upsim" ] || { echo "check-completion: build $upsim first" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/upsim-completion.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir sub
touch a.json b.json notes.txt sub/c.json
# A stand-in upsim whose catalogue has a fault no real build has: the
# completion must read the catalogue when it completes, not carry a copy.
cat > fake-upsim <<'FAKE'
#!/bin/sh
[ "$1" = faults ] || exit 2
printf 'Faults (an action'"'"'s "fault"):\n\nbrand_new   respond   a fault from the future\n            e.g. {"fault": "brand_new"}\nreset       request   RST\n\nTiming:\n\nnot_a_fault listener  x\n'
FAKE
chmod +x fake-upsim

failures=0
# complete EXPECTED WORD...: the last WORD is the one being completed;
# EXPECTED is the sorted, space-separated COMPREPLY.
complete_is() {
	local expected=$1; shift
	local got
	got=$(bash --norc --noprofile -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_upsim
		printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | paste -sd" "' bash "$script" "$@")
	if [ "$got" != "$expected" ]; then
		echo "check-completion: upsim ${*:2} <TAB>: expected [$expected], got [$got]" >&2
		failures=$((failures + 1))
	fi
}

complete_is "check ctl faults record run schema validate" "$upsim" ""
complete_is "record run" "$upsim" "r"
complete_is "--help --version" "$upsim" "--"
complete_is "-v" "$upsim" run -v
complete_is "--verbose" "$upsim" run --verb
complete_is "--log-format" "$upsim" run --log
complete_is "json text" "$upsim" run --log-format ""
complete_is "json" "$upsim" run --log-format j
complete_is "--ready-file --request-id-header" "$upsim" run --re
complete_is "--drill-ttl --duration" "$upsim" run --d
complete_is "" "$upsim" run --listen ""
complete_is "a.json b.json sub" "$upsim" run --listen 127.0.0.1:0 ""
complete_is "a.json b.json sub" "$upsim" validate ""
complete_is "a.json b.json sub" "$upsim" validate a.json ""
complete_is "sub/c.json" "$upsim" validate sub/
complete_is "--forward-to" "$upsim" validate --
complete_is "" "$upsim" validate --forward-to ""
complete_is "--fleet --forward-to" "$upsim" run --f
complete_is "" "$upsim" run --forward-to ""
complete_is "--forward-to" "$upsim" check --fo
complete_is "a.json b.json sub" "$upsim" run --fleet ""
complete_is "a.json b.json fake-upsim notes.txt sub" "$upsim" run --journal ""
complete_is "--fleet" "$upsim" schema ""
complete_is "--gateway --gateway-log --gateway-wait" "$upsim" check --gat
complete_is "haproxy" "$upsim" check --gateway h
complete_is "" "$upsim" check --through ""
complete_is "a.json b.json sub" "$upsim" check -t http://127.0.0.1:1 -g nginx ""
complete_is "--json --junit" "$upsim" check --j
complete_is "--inline-max" "$upsim" record --in
complete_is "--keep-secrets" "$upsim" record -u http://127.0.0.1:1 --k
complete_is "" "$upsim" record --upstream ""
complete_is "a.json b.json fake-upsim notes.txt sub" "$upsim" record -u http://x:1 --out ""
complete_is "healthz journal load metrics phase renew reset stats status" "$upsim" ctl ""
complete_is "renew reset" "$upsim" ctl --ready-file r.json re
complete_is "--admin --help --ready-file --token --upstream -a -r -t -u" "$upsim" ctl -
complete_is "" "$upsim" ctl --admin ""
complete_is "- a.json b.json sub" "$upsim" ctl -a 127.0.0.1:1 load ""
complete_is "--limit --since" "$upsim" ctl journal --
complete_is "brand_new reset" ./fake-upsim faults ""
complete_is "brand_new" ./fake-upsim faults b

# The real catalogue: exactly the faults of docs/scenarios.md's table.
documented=$(sed -n 's/^| \[`\([a-z_]*\)`\](#8[0-9]*-.*/\1/p' "$top/docs/scenarios.md" | LC_ALL=C sort | paste -sd' ')
[ "$(wc -w <<<"$documented")" -ge 15 ] || { echo "check-completion: cannot read the fault table of docs/scenarios.md" >&2; exit 1; }
complete_is "$documented" "$upsim" faults ""

if [ "$failures" -gt 0 ]; then
	echo "check-completion: $failures case(s) failed" >&2
	exit 1
fi
echo "check-completion: ok"

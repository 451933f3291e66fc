#!/usr/bin/env bash
# make check-man: the man pages are clean mdoc and stay true to the binary.
#
#   - mandoc -T lint -W warning prints nothing for either page;
#   - every option of `upsim --help`, `upsim ctl --help`, `upsim check
#     --help` and `upsim record --help` is in upsim.1;
#   - every fault of `upsim faults` has its entry in upsim-scenario.5;
#   - the example of upsim-scenario.5, as rendered, is a scenario that
#     `upsim validate` and the JSON Schema accept.
#
#   tests/man/check_man.sh docs/man/upsim.1 docs/man/upsim-scenario.5
set -euo pipefail
man1=${1:-docs/man/upsim.1}
man5=${2:-docs/man/upsim-scenario.5}
upsim=${UPSIM_BIN:-./upsim}
fail=0
complain() { echo "check-man: $*" >&2; fail=1; }

lint=$(mandoc -T lint -W warning "$man1" "$man5" 2>&1 || true)
[ -z "$lint" ] || complain "mandoc -T lint -W warning:"$'\n'"$lint"

render() { mandoc -T ascii "$1" | col -bx; }
page1=$(render "$man1")
page5=$(render "$man5")

opts=$( { "$upsim" --help; "$upsim" ctl --help; "$upsim" check --help; "$upsim" record --help; } | grep -oE -- '(^|[ ,])--?[a-z][a-z-]*' | sed 's/^[ ,]*//' | sort -u)
[ "$(wc -l <<<"$opts")" -ge 20 ] || complain "cannot read the options of upsim --help"
for o in $opts; do
	grep -qF -- "$o" <<<"$page1" || complain "$man1 does not document $o (from --help)"
done

faults=$("$upsim" faults | awk 'NR == 1 || done { next } /^[^ \t]/ { if ($0 ~ /:$/) done = 1; else print $1 }')
[ "$(wc -w <<<"$faults")" -ge 15 ] || complain "cannot read the fault names of upsim faults"
for f in $faults; do
	grep -qx "\.It Cm $f" "$man5" || complain "$man5 has no catalogue entry for the fault $f"
done

example=$(mktemp "${TMPDIR:-/tmp}/upsim-man-example.XXXXXX.json")
trap 'rm -f "$example"' EXIT
sed -n '/^EXAMPLES/,/^SEE ALSO/p' <<<"$page5" | sed '1d;$d' > "$example"
"$upsim" validate "$example" >/dev/null || complain "the example of $man5 is not a valid scenario"
/usr/bin/python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
	"$example" docs/schema/upsim-scenario.schema.json ||
	complain "the example of $man5 does not pass the JSON Schema"

[ "$fail" -eq 0 ] || exit 1
echo "check-man: ok ($(wc -l <<<"$opts") options, $(wc -w <<<"$faults") faults, example valid)"

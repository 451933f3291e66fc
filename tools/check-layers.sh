#!/usr/bin/env bash
# The layers of sim/ may only include the layers below them (sim/README.md):
#
#   base  <  scenario  <  engine  <  net  <  control  <  check
#   client: base and net
#
# and engine/ is pure: neither libmicrohttpd nor the event loop nor a socket.
# Prints every include that breaks a rule and exits 1; silent and 0 when
# all hold. Run by `make check` (target check-layers).
set -u
cd "$(dirname "$0")/../sim" || exit 2

declare -A may=(
	[base]="base"
	[scenario]="base scenario"
	[engine]="base scenario engine"
	[net]="base scenario engine net"
	[control]="base scenario engine net control"
	[client]="base net client"
	[check]="base scenario engine net control check"
)
# System headers that would make a layer impure.
declare -A banned=(
	[base]="microhttpd.h curl/curl.h sys/epoll.h"
	[scenario]="microhttpd.h curl/curl.h sys/epoll.h sys/socket.h"
	[engine]="microhttpd.h curl/curl.h sys/epoll.h sys/socket.h netinet/in.h"
)

bad=0
for layer in "${!may[@]}"; do
	for file in "$layer"/*.[ch]; do
		[ -e "$file" ] || continue
		while IFS= read -r line; do
			if [[ $line =~ ^#include\ \"([a-z_]+)/[a-z_]+\.h\" ]]; then
				to=${BASH_REMATCH[1]}
				if [[ " ${may[$layer]} " != *" $to "* ]]; then
					echo "sim/$file: $line: $layer/ may include only ${may[$layer]}"
					bad=1
				fi
			elif [[ $line =~ ^#include\ \"[^/]+\" ]]; then
				echo "sim/$file: $line: name the layer (\"$layer/...\")"
				bad=1
			elif [[ $line =~ ^#include\ \<([^>]+)\> ]]; then
				sys=${BASH_REMATCH[1]}
				if [[ " ${banned[$layer]:-} " == *" $sys "* ]]; then
					echo "sim/$file: $line: $layer/ stays free of it"
					bad=1
				fi
			fi
		done < "$file"
	done
done
# Every file of sim/ is in a layer, but for those that wire them (the
# commands at the top).
for file in *.[ch]; do
	case $file in
	main.c | cli.[ch] | run.[ch] | check_cmd.[ch] | record_cmd.[ch]) ;;
	*) echo "sim/$file: outside every layer: move it into one"; bad=1 ;;
	esac
done
exit $bad

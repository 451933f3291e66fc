#!/usr/bin/env bash
# Make sure the Debian packages upsim builds and tests with are installed.
# As root, install what is missing; otherwise print the exact apt-get line
# and fail, so `make` stops with something to do instead of a compiler error.
set -euo pipefail

# package  : what proves it is there
need=(
	"gcc:command -v gcc"
	"make:command -v make"
	"pkg-config:command -v pkg-config"
	"libmicrohttpd-dev:pkg-config --exists libmicrohttpd"
	"libjansson-dev:pkg-config --exists jansson"
	"libgnutls28-dev:pkg-config --exists gnutls"
	"check:pkg-config --exists check"
	"libsubunit-dev:pkg-config --exists libsubunit"
)
# Extra packages named by the caller (e.g. gateways for the conformance
# tests): tools/deps.sh nginx haproxy
for pkg in "$@"; do
	need+=("$pkg:dpkg-query -W -f=\${Status} $pkg 2>/dev/null | grep -q 'install ok installed'")
done

missing=()
for entry in "${need[@]}"; do
	pkg=${entry%%:*}
	probe=${entry#*:}
	if ! bash -c "$probe" >/dev/null 2>&1; then
		missing+=("$pkg")
	fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "tools/deps.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
	exit 0
fi

echo "tools/deps.sh: missing Debian packages. Install them with:" >&2
echo "  sudo apt-get install -y ${missing[*]}" >&2
exit 1

#!/bin/sh
# Regression-test a gateway with upsim check, as a CI job would: start the
# gateway (here nginx with nginx.conf, which names 127.0.0.1:8080 as its
# upstream), probe the scenarios through it, write JUnit XML, stop the
# gateway, exit with upsim check's code (0 pass, 1 an expectation failed,
# 2 usage or scenario error).
#
#   check-gateway.sh [SCENARIO.json...]     default: edge.json beside it
#
# UPSIM (default: upsim on PATH), JUNIT (default: upsim-junit.xml),
# UPSTREAM and GATEWAY_PORT (default 127.0.0.1:8080 and 8081: the
# addresses written in nginx.conf) change what runs where.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
UPSIM=${UPSIM:-upsim}
JUNIT=${JUNIT:-upsim-junit.xml}
UPSTREAM=${UPSTREAM:-127.0.0.1:8080}
GATEWAY_PORT=${GATEWAY_PORT:-8081}
[ $# -gt 0 ] || set -- "$here/edge.json"

# The gateway: nginx in the foreground, everything in a temp dir.
dir=$(mktemp -d)
sed -e "s/127\.0\.0\.1:8080/$UPSTREAM/" -e "s/127\.0\.0\.1:8081/127.0.0.1:$GATEWAY_PORT/" \
    "$here/nginx.conf" > "$dir/nginx.conf"
globals="daemon off;"
[ "$(id -u)" != 0 ] || globals="$globals user $(id -un) $(id -gn);"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx" -p "$dir/" -c "$dir/nginx.conf" -e stderr -g "$globals" &
gateway=$!
trap 'kill $gateway 2>/dev/null; wait $gateway 2>/dev/null; rm -rf "$dir"' EXIT

# Wait (at most 5 s) for its pid file: nginx writes it once it listens.
tries=0
until [ -s "$dir/nginx.pid" ]; do
    tries=$((tries + 1))
    if [ $tries -ge 50 ] || ! kill -0 $gateway 2>/dev/null; then
        echo "check-gateway.sh: nginx did not start" >&2
        exit 2
    fi
    sleep 0.1
done

status=0
"$UPSIM" check --gateway edge-nginx --listen "$UPSTREAM" \
    --through "http://127.0.0.1:$GATEWAY_PORT" \
    --gateway-log "$dir/error.log" --junit "$JUNIT" "$@" || status=$?
exit $status

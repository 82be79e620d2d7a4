#!/usr/bin/env bash
# The Debian packages the test suite drives for real: Chromium + ChromeDriver (web pages),
# PostgreSQL (the store's server database) and promtool (Prometheus rules). Installed once,
# only what is missing, only where apt-get can (root on Debian). Elsewhere the tests that
# need them skip and say which package is missing; `make run` never needs any of them.
set -euo pipefail
want=()
command -v chromium >/dev/null 2>&1 || want+=(chromium)
command -v chromedriver >/dev/null 2>&1 || want+=(chromium-driver)
command -v promtool >/dev/null 2>&1 || want+=(prometheus)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want+=(postgresql)
if [ ${#want[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "system_deps: not installing ${want[*]} (needs root and apt-get); their tests skip" >&2
    exit 0
fi
echo "system_deps: installing ${want[*]} (once)" >&2
export DEBIAN_FRONTEND=noninteractive
# prometheus would start its own server at install: policy-rc.d keeps services down.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q --no-install-recommends "${want[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "${want[@]}" >/dev/null; }

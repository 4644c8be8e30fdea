#!/bin/sh
# Points apt at the Debian mirror given as $1, for this image's own suite, so
# that images whose suite left Debian's main mirrors (moved to the archive) or
# machines that reach only an internal mirror can still install packages.
# Without an argument the image keeps the sources it came with.
set -eu
mirror="${1:-}"
[ -n "$mirror" ] || exit 0
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$suite" ] || { echo "apt-sources: cannot tell this image's Debian suite from /etc/os-release" >&2; exit 1; }
rm -f /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
echo "deb $mirror $suite main" > /etc/apt/sources.list
# Archived suites are signed once and never again: their Release files have expired.
echo 'Acquire::Check-Valid-Until "false";' > /etc/apt/apt.conf.d/99nokmem-build-archive

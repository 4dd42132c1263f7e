#!/usr/bin/env bash
# Builds a guest image from Debian 12 packages: mmdebstrap makes a minimal
# root filesystem with the packages named (and what Mininet calls in a host:
# bash, ip, ifconfig, ping, tc), which guest/import-image.sh makes an image
# as it does a container image's. A KVM host runs it with image=NAME.
#
#   guest/build-debian-image.sh NAME PACKAGES [CACHE_DIR]   (PACKAGES: a,b,c)
#
# The key hashes the package list, the mirror and these scripts: the same
# inputs are built once (a package's new version comes with an input that
# changed, or after `mnkvm image rm NAME`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/cache.sh"
name=$1 packages=$2
cache=${3:-${MNKVM_CACHE:-/var/cache/mnkvm}}
images="$cache/images"
mirror=${MNKVM_DEBIAN_MIRROR:-http://deb.debian.org/debian}

die() { echo "mnkvm image build --debian: $*" >&2; exit 1; }

[[ "$packages" =~ ^[a-z0-9][a-z0-9+.-]*(,[a-z0-9][a-z0-9+.-]*)*$ ]] ||
  die "--packages $packages: give Debian package names, comma separated (iperf3,nginx)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: apt-get install mmdebstrap (setup.sh does)"
why=$(image_name_problem "$name")   # (here too: before minutes of mmdebstrap)
[ -z "$why" ] || die "$why"
base=bash,iproute2,iputils-ping,net-tools,procps
key=$( { cat "$0" "$here/import-image.py" "$here/import-image.sh"; echo "$mirror";
         echo "$base,$packages" | tr , '\n' | sort -u; } | cache_key)
cache_open "$images" "$name" "$key"
if cache_built; then
  cache_point
  echo "image $name up to date: $cache_out"
  exit 0
fi

cache_work .debian
work=$cache_work
echo "*** image $name: Debian 12 with $packages, from $mirror" >&2
# (documentation and translations left out: the image is a host's, not a desktop's)
if ! mmdebstrap --quiet --variant=minbase --include="$base,$packages" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='rm -f "$1/etc/hostname"' \
    bookworm "$work/rootfs.tar" "deb $mirror bookworm main" 2>"$work/log"; then
  why=$(grep -m1 -E '^E: ' "$work/log" || tail -n 1 "$work/log")
  die "mmdebstrap failed: ${why:-see its output}"
fi
# import-image.sh makes the image under this script's lock (fd 9, passed on)
MNKVM_IMAGE_KEY=$key MNKVM_IMAGE_SOURCE="debian:bookworm:$packages" \
  bash "$here/import-image.sh" "tar:$work/rootfs.tar" "$name" "$cache"

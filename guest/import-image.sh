#!/usr/bin/env bash
# Imports a container image as a guest image: its layers unpacked into one
# root filesystem (guest/import-image.py), made an ext4 disk that every KVM
# host of the image shares read-only (each writes to an overlay in its own
# memory), and the image's start settings (Entrypoint, Cmd, Env, WorkingDir).
# A KVM host boots the default image's kernel and initramfs (agent, shell
# protocol, tools) and runs Mininet's shell inside the image's root.
#
#   guest/import-image.sh SOURCE NAME [CACHE_DIR]
#
# SOURCE: docker-archive:FILE.tar or oci:DIR (:REF to pick one image).
# The image lands in CACHE_DIR/images/NAME-<key>, <key> hashing the source's
# content and this importer; NAME points at it. A key that exists is not
# imported again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/cache.sh"
source=$1 name=$2
cache=${3:-${MNKVM_CACHE:-/var/cache/mnkvm}}
images="$cache/images"

die() { echo "mnkvm image import: $*" >&2; exit 1; }

kind=${source%%:*} rest=${source#*:}
path=${rest%%:*}
case "$kind" in
  docker-archive) [ -f "$path" ] || die "$path: no such file (give docker-archive:FILE.tar, as docker save writes it)" ;;
  oci) [ -d "$path" ] || die "$path: no such folder (give oci:DIR, an OCI image layout)" ;;
  tar) [ -f "$path" ] || die "$path: no such file" ;;   # (guest/build-debian-image.sh's)
  *) die "$source: give docker-archive:FILE.tar or oci:DIR" ;;
esac
why=$(image_name_problem "$name")
[ -z "$why" ] || die "$why"

# The key: the source's bytes (an OCI layout's index and blobs) and the importer.
ref=${rest#"$path"}
# (MNKVM_IMAGE_KEY, MNKVM_IMAGE_SOURCE: a builder's own key, of what the
# tar was made from, and what to call that)
key=${MNKVM_IMAGE_KEY:-}
label=${MNKVM_IMAGE_SOURCE:-$source}
[ -n "$key" ] || key=$( { cat "$here/import-image.py" "$here/import-image.sh"; echo "ref$ref";
         if [ "$kind" = oci ]; then cat "$path/index.json"; ls "$path/blobs/sha256"; else sha256sum < "$path"; fi; } |
       cache_key)
# (build-debian-image.sh runs this under its lock, which it passes on)
cache_open "$images" "$name" "$key"
out=$cache_out
if cache_built; then
  cache_point
  echo "image $name up to date: $out"
  exit 0
fi

cache_work .import
work=$cache_work
mkdir "$work/rootfs" "$work/image"
/usr/bin/python3 "$here/import-image.py" "$source" "$work/rootfs" "$work/image/config.json" || exit 1
# Room for the files and their inodes, and some to spare: the disk is read-only
# in the guest (writes go to its overlay), so spare room only helps the build.
# 4 KiB blocks: with the 1 KiB blocks mke2fs picks for a small disk, mke2fs
# 1.47.0 -d wrote directory blocks whose checksums Linux 6.1 refused.
kib=$(du -sk --apparent-size "$work/rootfs" | cut -f1)
inodes=$(find "$work/rootfs" | wc -l)
mkfs.ext4 -q -F -b 4096 -L mnkvm-root -N $((inodes * 3 / 2 + 1024)) -d "$work/rootfs" >/dev/null \
  "$work/image/rootfs.ext4" $((kib * 5 / 4 + 65536))K || die "mkfs.ext4 could not make the image's disk"
/usr/bin/python3 -c 'import json, sys; json.dump(dict(zip(("name", "key", "source", "built"), sys.argv[1:]),
  kind="rootfs", rootfs="rootfs.ext4", config="config.json"), sys.stdout)' \
  "$name" "$key" "$label" "$(date -u +%FT%TZ)" > "$work/image/manifest.json"
cache_commit "$work/image"
echo "image $name: $out ($(du -sh "$out/rootfs.ext4" | cut -f1), from $label)"

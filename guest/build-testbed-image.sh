#!/usr/bin/env bash
# Builds the virtual testbed's server image: Debian 12 with the generic
# kernel (igb, igbvf, vfio-pci, intel-iommu), systemd, GRUB, OpenSSH and
# Python (for Ansible), on a raw disk with one ext4 partition.
#
#   guest/build-testbed-image.sh [CACHE_DIR]     (default: /var/cache/mnkvm)
#
# The image lands in CACHE_DIR/testbed/server-<key>, where <key> hashes this
# script, guest/testbed/ and the package list; `server` points at the
# newest. An image whose key exists is not rebuilt. The server's own guest
# image (guest/build-image.sh with the server's kernel and packages) is built
# here too, natively, into the server's cache: ansible/'s mnkvm role then
# finds it up to date instead of building it under emulation (minutes). It
# is content-keyed itself, so it is not in <key>: where guest/ has changed
# since, the server builds its own, as without it. Packages come from
# Debian's mirror (mmdebstrap); the disk is made without mounting anything
# (mkfs.ext4 -d), and GRUB is installed by the server's own tools in one
# boot under QEMU (guest/testbed/finalize).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/cache.sh"
cache=${1:-${MNKVM_CACHE:-/var/cache/mnkvm}}
images="$cache/testbed"
mirror=${MNKVM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
die() { echo "guest/build-testbed-image.sh: $*" >&2; exit 1; }

pkgs=(systemd-sysv udev dbus linux-image-amd64 grub-pc openssh-server python3 python3-apt sudo
      iproute2 pciutils ethtool kmod procps less ca-certificates irqbalance linux-cpupower rsync
      # what mnkvm needs to run (setup.sh's list: ansible/'s mnkvm role then installs nothing)
      $(bash "$here/../setup.sh" --packages))
for tool in mmdebstrap mkfs.ext4 sfdisk qemu-system-x86_64; do
  command -v "$tool" >/dev/null || die "$tool is missing: run ./setup.sh"
done
key=$( { cat "$0" "$here"/testbed/*; echo "${pkgs[*]}"; bash "$here/../setup.sh" --backports; } | cache_key)
cache_open "$images" server "$key"
out=$cache_out
if cache_built; then
  cache_point
  exit 0
fi
cache_work .build
work=$cache_work

echo "*** testbed image: Debian 12 from $mirror" >&2
# grub-pc is installed now and put on the disk later (finalize): no device to ask about here
mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${pkgs[*]}")" \
  --essential-hook='echo "grub-pc grub-pc/install_devices_empty boolean true" | chroot "$1" debconf-set-selections' \
  --customize-hook="upload $here/testbed/grub /etc/default/grub" \
  --customize-hook="upload $here/testbed/finalize /usr/local/sbin/mnkvm-finalize" \
  --customize-hook="upload $here/testbed/mnkvm-testbed /usr/local/sbin/mnkvm-testbed" \
  --customize-hook="upload $here/testbed/mnkvm-testbed.service /etc/systemd/system/mnkvm-testbed.service" \
  --customize-hook="upload $here/testbed/10-mgmt.network /etc/systemd/network/10-mgmt.network" \
  --customize-hook='chmod 755 "$1/usr/local/sbin/mnkvm-finalize" "$1/usr/local/sbin/mnkvm-testbed"' \
  --customize-hook='chroot "$1" systemctl enable -q mnkvm-testbed.service systemd-networkd.service' \
  --customize-hook="chroot \"\$1\" apt-get install -y -qq --no-install-recommends -t bookworm-backports $(bash "$here/../setup.sh" --backports | tr '\n' ' ') >/dev/null" \
  --customize-hook='echo "LABEL=tbroot / ext4 errors=remount-ro 0 1" > "$1/etc/fstab"' \
  --customize-hook='mkdir -p "$1/tmp/mnkvm-guest"' \
  --customize-hook="sync-in $here /tmp/mnkvm-guest" \
  --customize-hook='chroot "$1" bash /tmp/mnkvm-guest/build-image.sh >&2 && rm -rf "$1/tmp/mnkvm-guest"' \
  --customize-hook='printf "9p\n9pnet_virtio\n" > "$1/etc/initramfs-tools/modules"; chroot "$1" update-initramfs -u -k all >/dev/null' \
  --customize-hook='cp "$1"/boot/vmlinuz-*[0-9]-amd64 "$1"/boot/initrd.img-*[0-9]-amd64 "'"$work"'/"' \
  bookworm "$work/root" "deb $mirror bookworm main" "deb $mirror bookworm-backports main"   # (backports: QEMU 10, as here)

echo "*** testbed image: disk" >&2
mkfs.ext4 -q -F -L tbroot -d "$work/root" "$work/part.img" 4G
truncate -s $((4 * 1024 + 1))M "$work/disk.img"
echo 'start=2048, type=83, bootable' | sfdisk -q "$work/disk.img"
dd if="$work/part.img" of="$work/disk.img" bs=1M seek=1 conv=notrunc,sparse status=none
rm -rf "$work/root" "$work/part.img"

echo "*** testbed image: GRUB, installed in one boot of the server" >&2
timeout 300 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -nodefaults -display none -no-reboot \
  -kernel "$(ls "$work"/vmlinuz-*)" -initrd "$(ls "$work"/initrd.img-*)" \
  -append 'root=/dev/vda1 rw console=ttyS0 panic=-1 init=/usr/local/sbin/mnkvm-finalize' \
  -drive "file=$work/disk.img,format=raw,if=virtio" -serial "file:$work/finalize.log" \
  || die "the build boot failed: $(tail -n 5 "$work/finalize.log")"
grep -q 'mnkvm-finalize: done' "$work/finalize.log" || die "GRUB was not installed: $(tail -n 5 "$work/finalize.log")"
rm -f "$work"/vmlinuz-* "$work"/initrd.img-*

cat > "$work/manifest.json" <<JSON
{
  "disk": "disk.img",
  "key": "$key",
  "built": "$(date -u +%FT%TZ)"
}
JSON
chmod 755 "$work"
cache_commit "$work"   # (only the newest image is kept)
echo "*** testbed image: $out" >&2

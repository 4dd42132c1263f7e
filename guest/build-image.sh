#!/usr/bin/env bash
# Builds mnkvm's default guest from the Debian packages installed on this
# machine: the cloud kernel (uncompressed, for a fast PVH boot; else the
# machine's own) and an
# LZ4-compressed initramfs with busybox, python3 and the real tools Mininet
# scripts call.
#
#   guest/build-image.sh [CACHE_DIR]     (default: /var/cache/mnkvm)
#
# The image lands in CACHE_DIR/images/default-<key>, where <key> hashes every
# input (this script, guest/init, kernel and package versions); `default`
# points at the newest. An image whose key exists is not rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/cache.sh"
cache=${1:-${MNKVM_CACHE:-/var/cache/mnkvm}}
images="$cache/images"

die() { echo "guest/build-image.sh: $*" >&2; exit 1; }

# The cloud kernel where it is installed (setup.sh installs it here), else the
# machine's own newest kernel (a testbed server, where a second kernel flavour
# would be the one GRUB boots: setup.sh's MNKVM_SETUP=run leaves it out)
kernel=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$kernel" ] || kernel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$kernel" ] || die "no Debian kernel in /boot: apt-get install linux-image-cloud-amd64"
kver=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$kver

# Tools in the guest, by the Debian package that ships them.
bins=(/usr/bin/bash /usr/sbin/ip /usr/sbin/tc /usr/sbin/ethtool /usr/bin/iperf /usr/bin/iperf3
      /usr/bin/sockperf /usr/bin/ping /usr/sbin/ifconfig /usr/sbin/route /usr/sbin/arp
      /usr/sbin/dropbear /usr/bin/mnexec /usr/bin/stty /usr/bin/telnet /usr/bin/sshfs
      /usr/bin/python3.11 /usr/bin/cyclictest)
pkgs=(busybox-static bash iproute2 ethtool iperf iperf3 sockperf iputils-ping net-tools
      dropbear-bin mininet coreutils inetutils-telnet sshfs "linux-image-$kver"
      python3.11-minimal libpython3.11-minimal libpython3.11-stdlib
      rt-tests libnuma1)   # cyclictest (mnkvm bench's timer probe), and its libnuma
# Python's standard library: what the guest leaves out (by top-level name in
# /usr/lib/python3.11), and the extension modules it gets. Left out with the
# others: OpenSSL (no https; hashlib has its builtin hashes), sqlite3, curses,
# readline, dbm, bz2, lzma, the CJK codecs; decimal falls back to _pydecimal.
pylib=/usr/lib/python3.11
pyskip=(test idlelib tkinter turtledemo turtle.py ensurepip venv lib2to3 distutils
        _distutils_system_mod.py unittest pydoc_data sqlite3 curses dbm __phello__
        __hello__.py antigravity.py this.py sitecustomize.py lib-dynload config-3.11-x86_64-linux-gnu)
pyexts=(_asyncio _contextvars _ctypes _json _multiprocessing _posixshmem _queue _typing
        mmap resource termios)
modules=(virtio_pci virtio_console virtio_net virtio-rng sch_htb sch_tbf sch_netem
         sch_ingress cls_u32 act_mirred fuse)
# The common SR-IOV VF drivers, for VFs passed through (SR-IOV links), where
# the kernel has them (Debian's generic kernel does; its cloud kernel does
# not); the disk and filesystems of an image's root (mnkvm image import),
# where they are modules (ext4 is built into the cloud kernel)
for m in igbvf ixgbevf iavf mlx5_core virtio_blk ext4 overlay; do
  if grep -qE "(^|/)$m\.ko(\.[a-z]+)?:" "$moddir/modules.dep"; then modules+=("$m"); fi
done

for b in "${bins[@]}" /bin/busybox; do
  [ -x "$b" ] || die "$b is missing: run ./setup.sh (it installs the guest's Debian packages)"
done
pysos=()
for m in "${pyexts[@]}"; do
  so=$pylib/lib-dynload/$m.cpython-311-x86_64-linux-gnu.so
  [ -f "$so" ] || die "$so is missing: run ./setup.sh"
  pysos+=("$so")
done
versions=$(dpkg-query -W -f '${Package}=${Version}\n' "${pkgs[@]}" 2>/dev/null) \
  || die "a guest package is missing (${pkgs[*]}): run ./setup.sh"
key=$( { cat "$0" "$here/init" "$here/image-shell" "$here/shellrc" "$here/mnkvm-agent.c"; echo "$versions"; echo "${modules[*]}"; } | cache_key)
cache_open "$images" default "$key"
out=$cache_out
if cache_built; then
  cache_point
  echo "guest image up to date: $out"
  exit 0
fi

cache_work .build
work=$cache_work
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/dropbear,root/.ssh,lib/modules,proc,sys,dev,tmp,run}

copy() { # copy a file to the same path under $root, keeping symlinks resolved
  mkdir -p "$root$(dirname "$1")"
  cp -L "$1" "$root$1"
}
for b in "${bins[@]}" "${pysos[@]}"; do
  copy "$b"
  ldd "$b" | { grep -o '/[^ ]*' || true; } | while read -r lib; do copy "$lib"; done  # none: "statically linked"
done
cp -r /usr/lib/tc "$root/usr/lib/" 2>/dev/null || true
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
ln -sf /usr/bin/bash "$root/bin/bash"
# What a guest that runs an image (mnkvm image import) has in the image's
# root at /.mnkvm/bin, last in PATH, for what the image lacks: busybox with
# its applets (static: it runs in any root), and the tools Mininet calls
# (ip, tc, ifconfig, ping, iperf, ...) as this guest has them, each run from
# the guest's own root (PID 1's, /proc/1/root) with its loader and libraries
mkdir -p "$root/usr/lib/mnkvm/bin"
cp /bin/busybox "$root/usr/lib/mnkvm/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/usr/lib/mnkvm/bin/$applet"
done
for b in "${bins[@]}"; do
  case "${b##*/}" in dropbear|sshfs|python3.11|mnexec|stty|bash) continue ;; esac
  rm -f "$root/usr/lib/mnkvm/bin/${b##*/}"
  printf '#!/.mnkvm/bin/sh\nr=/proc/1/root\nTC_LIB_DIR=$r/usr/lib/tc exec $r/lib64/ld-linux-x86-64.so.2 --argv0 %s --library-path $r/lib/x86_64-linux-gnu:$r/usr/lib/x86_64-linux-gnu $r%s "$@"\n' \
    "${b##*/}" "$b" > "$root/usr/lib/mnkvm/bin/${b##*/}"
  chmod 755 "$root/usr/lib/mnkvm/bin/${b##*/}"
done
install -m 0755 "$here/image-shell" "$root/usr/lib/mnkvm/image-shell"
install -m 0644 "$here/shellrc" "$root/usr/lib/mnkvm/bin/shellrc"

# Python 3, as on a Mininet host (`h1 python -m http.server 80 &`): Debian's
# interpreter (not whichever python3 comes first on PATH here) with its
# standard library compiled to .pyc files in /usr/lib/python311.zip, which is
# on Debian's default sys.path. The guest runs emulated, where parsing sources
# at every import is slow, and the zip (compressed) keeps the rootfs small.
ln -s python3.11 "$root/usr/bin/python3"
ln -s python3 "$root/usr/bin/python"
mkdir -p "$root$pylib/lib-dynload"   # also the landmark that sets sys.exec_prefix
/usr/bin/python3.11 -I - "$pylib" "$root/usr/lib/python311.zip" "$work/pyc" "${pyskip[@]}" <<'PY'
import os, py_compile, sys, zipfile
lib, out, tmp, skip = sys.argv[1], sys.argv[2], sys.argv[3], set(sys.argv[4:])
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for top, dirs, files in os.walk(lib):
        rel = os.path.relpath(top, lib)
        if rel == ".":
            dirs[:] = [d for d in dirs if d not in skip]
            files = [f for f in files if f not in skip]
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            src = os.path.join(top, f)
            py_compile.compile(src, cfile=tmp, dfile=src, doraise=True, optimize=0)
            entry = zipfile.ZipInfo(os.path.normpath(os.path.join(rel, f)) + "c")
            with open(tmp, "rb") as pyc:
                z.writestr(entry, pyc.read(), zipfile.ZIP_DEFLATED, 9)
PY
rm -f "$work/pyc"

# Kernel modules with their dependencies, loaded in dependency order.
: > "$root/lib/modules/load-order"
add_module() {
  local name=$1 path deps dep
  path=$(grep -E "(^|/)$name\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | cut -d: -f1) \
    || die "kernel module $name not found in $moddir"
  deps=$(grep -E "^$path:" "$moddir/modules.dep" | cut -d: -f2)
  for dep in $deps; do add_module "$(basename "${dep%%.ko*}")"; done
  grep -qx "$(basename "${path%%.ko*}").ko" "$root/lib/modules/load-order" && return 0
  case "$path" in
    *.ko) cp "$moddir/$path" "$root/lib/modules/" ;;
    *.ko.xz) xz -dc "$moddir/$path" > "$root/lib/modules/$(basename "${path%.xz}")" ;;
    *.ko.zst) zstd -qdc "$moddir/$path" > "$root/lib/modules/$(basename "${path%.zst}")" ;;
    *) die "unknown module format: $path" ;;
  esac
  basename "${path%%.ko*}.ko" >> "$root/lib/modules/load-order"
}
for m in "${modules[@]}"; do add_module "$m"; done

# Users, SSH keys (one lab key pair: guests are reachable only from their own namespace).
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$root/etc/passwd"
printf 'root::0:0:99999:7:::\n' > "$root/etc/shadow"
printf 'root:x:0:\n' > "$root/etc/group"
printf '/bin/sh\n/bin/bash\n/usr/bin/bash\n' > "$root/etc/shells"
printf '127.0.0.1 localhost\n' > "$root/etc/hosts"
ssh-keygen -q -t ed25519 -N '' -C mnkvm -f "$work/id_ed25519"
cp "$work/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
dropbearkey -t ed25519 -f "$root/etc/dropbear/dropbear_ed25519_host_key" >/dev/null 2>&1
install -m 0755 "$here/init" "$root/init"
gcc -static -Os -s -Wall -o "$root/usr/sbin/mnkvm-agent" "$here/mnkvm-agent.c"
ldconfig -r "$root"

# LZ4 (the kernel's legacy format): while the kernel unpacks it, the archive
# and the files it holds share the guest's memory; uncompressed (42 MB with
# python3) a guest with mem=160 runs out. LZ4 unpacks fastest of the formats
# the kernel reads, and clones never unpack it (their RAM is the template's).
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | lz4 -l -9 -q > "$work/initramfs.cpio.lz4"

# PVH boot needs the uncompressed ELF kernel: find the LZ4 payload in the bzImage.
offset=$(grep -obUaP '\x02\x21\x4c\x18' "$kernel" | head -n 1 | cut -d: -f1 || true)
if [ -n "$offset" ]; then
  tail -c "+$((offset + 1))" "$kernel" | lz4 -dc > "$work/vmlinux" 2>/dev/null || true
fi
if [ "$(head -c 4 "$work/vmlinux" 2>/dev/null | od -An -tx1 | tr -d ' ')" = "7f454c46" ]; then
  kfile=vmlinux
else
  cp "$kernel" "$work/vmlinuz"; rm -f "$work/vmlinux"; kfile=vmlinuz
fi

cat > "$work/manifest.json" <<EOF
{
  "name": "default",
  "key": "$key",
  "kernel": "$kfile",
  "kernelVersion": "$kver",
  "initramfs": "initramfs.cpio.lz4",
  "sshKey": "id_ed25519",
  "built": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF
rm -rf "$root"
cache_commit "$work"
echo "guest image built: $out ($(du -sh "$out" | cut -f1))"

#!/usr/bin/env bash
# Sets up mnkvm on Debian 12, as root. Idempotent: run it again at any time.
#   Debian packages -> npm dependencies -> TypeScript build -> guest image -> /usr/local/bin/mnkvm
#
#   ./setup.sh                    everything: running mnkvm, its tests and the virtual testbed
#   MNKVM_SETUP=run ./setup.sh    what running mnkvm needs (a testbed server: ansible/'s mnkvm role)
#   MNKVM_PREBUILT=1              dist/ and node_modules/ are there already (copied): no npm, no tsc
#   node_modules/mnkvm/setup.sh   in an installed package (npm pack's tarball): as MNKVM_SETUP=run MNKVM_PREBUILT=1
#   ./setup.sh --packages         print the Debian packages running mnkvm needs, and exit
#   ./setup.sh --backports        ... and those it takes from bookworm-backports
set -euo pipefail
cd "$(dirname "$0")"
say() { printf '*** setup: %s\n' "$*"; }

# What running mnkvm needs: Mininet and the tools its scripts call, what the
# guest image is built from, Open vSwitch, the shared folder's servers.
packages_run=(
  mininet python3 bridge-utils iproute2 iputils-ping net-tools ethtool iperf iperf3 inetutils-telnet
  busybox-static dropbear-bin openssh-client sockperf
  rt-tests   # cyclictest: mnkvm bench's timer probe, in namespace hosts and (copied) in the default guest
  cpio lz4 xz-utils zstd util-linux procps openvswitch-switch sshfs openssh-sftp-server
  iptables gcc libc6-dev
  sudo   # Mininet's cluster edition (--servers) runs ssh, and commands on servers, through sudo
  libvirt-daemon-system libvirt-clients   # backend=libvirt, and KVM hosts on servers (their libvirtd, over qemu+ssh)
  e2fsprogs mmdebstrap   # guest images' disks (mnkvm image import; image build --debian)
)
# What the tests and the virtual testbed need besides (the cloud kernel: the
# default guest image's, here; a server's guests get the server's own
# kernel, as a second kernel flavour there would be the one GRUB boots)
packages_test=(
  linux-image-cloud-amd64
  xvfb xterm x11-xserver-utils   # mn -x, and the CLI's xterm
  fdisk ansible ansible-lint rsync   # the virtual testbed's server image, and its Ansible roles
  chromium   # the test suite looks at `mnkvm report`'s HTML in headless Chromium
  libxml2-utils   # the tests check domain XML with virt-xml-validate (xmllint)
  python3-pytest   # npm run test:unit: the pure Python helpers of mininet-ext/
  flake8   # npm run lint (npm test runs it first): the Python half, in Mininet's style (.flake8)
  libvirt-dev g++ make pkg-config   # @unraid/libvirt's native part is built here (npm ci)
)
# QEMU 10 from bookworm-backports, for everything: the virtual testbed needs
# its igb NIC (SR-IOV, QEMU >= 8), and two QEMUs side by side clash on their
# module folder (docs/how-it-works.md, "Why QEMU 10").
backports=(qemu-system-x86 qemu-utils)

case "${1:-}" in
  --packages) printf '%s\n' "${packages_run[@]}"; exit 0 ;;
  --backports) printf '%s\n' "${backports[@]}"; exit 0 ;;
esac
[ "$(id -u)" = 0 ] || { echo "setup.sh must run as root (it installs Debian packages): try sudo ./setup.sh" >&2; exit 1; }
# An installed package is compiled, npm installed its dependencies beside it,
# and it has no lock file for npm ci (npm pack leaves it out) and no tests
if [ ! -f package-lock.json ]; then
  : "${MNKVM_PREBUILT:=1}" "${MNKVM_SETUP:=run}"
fi
mode=${MNKVM_SETUP:-all}
case "$mode" in
  run) packages=("${packages_run[@]}") ;;
  all) packages=("${packages_run[@]}" "${packages_test[@]}") ;;
  *) echo "MNKVM_SETUP=$mode: use run or all" >&2; exit 1 ;;
esac
changed=0   # whether this run changed anything (ansible/'s mnkvm role reports it)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v node >/dev/null || missing+=(nodejs)
[ -n "${MNKVM_PREBUILT:-}" ] || command -v npm >/dev/null || missing+=(npm)
old_backports=()
for p in "${backports[@]}"; do
  version=$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || true)
  dpkg --compare-versions "${version:-0}" ge 1:10.0 || old_backports+=("$p")
done
export DEBIAN_FRONTEND=noninteractive
if [ ${#old_backports[@]} -gt 0 ]; then
  if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    say "adding Debian's bookworm-backports to apt's sources"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      > /etc/apt/sources.list.d/mnkvm-backports.sources
  fi
fi
if [ ${#missing[@]} -gt 0 ] || [ ${#old_backports[@]} -gt 0 ]; then
  apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  changed=1
fi
if [ ${#old_backports[@]} -gt 0 ]; then
  say "installing QEMU 10 from bookworm-backports: ${old_backports[*]}"
  apt-get install -y -qq --no-install-recommends -t bookworm-backports "${old_backports[@]}" >/dev/null
  changed=1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "mnkvm needs Node.js 20 or newer (found $(node --version))" >&2; exit 1; }

# Open vSwitch for --switch ovs/ovsbr,datapath=user (its kernel module is optional).
if ! ovs-vsctl -t 1 show >/dev/null 2>&1; then
  say "starting Open vSwitch"
  if [ -d /run/systemd/system ]; then
    systemctl start openvswitch-switch
  else
    mkdir -p /var/run/openvswitch /var/log/openvswitch
    [ -f /etc/openvswitch/conf.db ] || ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema
    ovsdb-server /etc/openvswitch/conf.db --remote=punix:/var/run/openvswitch/db.sock \
      --pidfile --detach --log-file
    ovs-vsctl --no-wait init
    ovs-vswitchd --pidfile --detach --log-file
  fi
fi

# libvirtd for backend=libvirt (and virtlogd, which keeps its QEMU logs); no
# systemd (a container, CI): as daemons, their pid files where libvirt keeps them.
if command -v libvirtd >/dev/null && ! virsh -q -c qemu:///system version >/dev/null 2>&1; then
  say "starting libvirtd"
  if [ -d /run/systemd/system ]; then
    systemctl start libvirtd
  else
    virtlogd --daemon
    libvirtd --daemon --pid-file=/run/libvirtd.pid
  fi
  for _ in $(seq 50); do virsh -q -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
fi

if [ -z "${MNKVM_PREBUILT:-}" ]; then
  say "npm dependencies"
  # @unraid/libvirt builds its native part against Node's own headers (only
  # npm's and Debian's registries may be reachable: none downloaded)
  [ -f /usr/include/node/common.gypi ] && export npm_config_nodedir=/usr
  npm ci --no-audit --no-fund --loglevel=error
  say "TypeScript build"
  npx tsc -p .
  changed=1
fi
chmod +x dist/src/cli/main.js
if [ "$(readlink /usr/local/bin/mnkvm || true)" != "$PWD/dist/src/cli/main.js" ]; then
  ln -sfn "$PWD/dist/src/cli/main.js" /usr/local/bin/mnkvm
  changed=1
fi

say "guest image"
image=$(bash guest/build-image.sh)
echo "$image"
[[ "$image" == "guest image up to date"* ]] || changed=1
if [ "$mode" = all ]; then
  say "virtual testbed server image (Debian 12 from Debian's mirror; once, then cached)"
  bash guest/build-testbed-image.sh
  say "the tests' Debian guest image (iperf3 from Debian's mirror; once, then cached)"
  bash guest/build-debian-image.sh test-debian iperf3
fi
[ "$changed" = 1 ] || say "changed nothing"
say "done: try  mnkvm --topo single,2 --host kvm --test pingall"

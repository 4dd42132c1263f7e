#!/bin/bash
# SR-IOV links on the hardware path, run inside a virtual testbed server
# (test/testbed.test.ts): igb VFs passed through with VFIO into KVM hosts
# run with KVM. Prints one marker line per check; the test asserts them.
# Bounded: every mnkvm run has a timeout (SPEED: a whole factor its bounds
# are scaled by, the test suite's speed factor rounded up).
set -u
speed=${SPEED:-1}
here=$(cd "$(dirname "$0")" && pwd)
pf=$(ls /sys/bus/pci/devices/0000:01:00.0/net)
# the VFs as their PF and driver see them: drivers, and MAC, VLAN, spoofchk, trust per VF
state() {
  for v in /sys/bus/pci/devices/0000:01:00.0/virtfn*; do basename "$(readlink "$v/driver")"; done | sort | uniq -c
  ip -o link show dev "$pf" | grep -o 'vf [0-9]* .*' | sed 's/, link-state.*//'
}
run() { timeout $((300 * speed)) mnkvm "$@" 2>&1; }
# (each part's seconds, for the test's log: where the time goes)
took() { echo "TOOK $1 $((SECONDS - ${last:-0})) s"; last=$SECONDS; }
before=$(state)
same() { if [ "$(state)" = "$before" ]; then echo "VFS $1 restored"; else echo "VFS $1 CHANGED"; state; fi; }

for topo in single,3 linear,2; do
  out=$(run --topo $topo --host kvm,accel=kvm --link sriov --test pingall)
  echo "PINGALL $topo $(grep -o 'Results: [0-9]*% dropped' <<<"$out")"
  grep -q 'SR-IOV links: VFs of' <<<"$out" && echo "HARDWARE $topo"
done
same pingall
took pingall
# (--test iperf on single,2 hangs in QEMU's igb, see the issue's note; iperf3 over a direct SR-IOV link runs)
out=$(run run "$here/sriov_runtime.py")
grep -E '^(DROPPED|ADDED|DELETED)' <<<"$out" | cut -c1-80
same scripts
took scripts

# bad input: one line each (counted), and every VF as it was
# (Mininet may have begun a line, "(h1, s1) ", before the error)
bad() { local what=$1; shift; out=$(run "$@" | grep -v '^\*\*\* mnkvm: '); echo "BAD $what $(grep -c 'mnkvm: ' <<<"$out") $(grep -m1 -o 'mnkvm: .*' <<<"$out")"; }
plain=$(for n in /sys/class/net/*; do [ -e "$n/device" ] && [ ! -e "$n/device/sriov_totalvfs" ] && [ ! -e "$n/device/physfn" ] && basename "$n"; done | head -1)
bad nopf --topo single,2 --host kvm,accel=kvm --link sriov,pf=nosuch0 --test pingall
bad nosriov --topo single,2 --host kvm,accel=kvm --link sriov,pf="$plain" --test pingall
bad novf --topo single,2 --host kvm,accel=kvm --link sriov,pf="$pf#0" --test pingall
bad knob --topo single,2 --host kvm,accel=kvm --link sriov,rate=100000 --test pingall
same bad
took bad

# two runs at once: sriov_vlans.py (two links, each on a VLAN of its own) runs beside the first, and
# the second cannot have the first's VF, and says so in one line
# (its CLI's input ends the run after a while, bounded; the sleep must not hold this script's stderr,
# or the SSH session that runs the script stays open until the sleep ends)
mnkvm --topo single,2 --host kvm,accel=kvm --link sriov,pf=$pf#0-1 --switch lxbr < <(exec 2>/dev/null; sleep $((150 * speed)); echo exit) > /tmp/first.log 2>&1 &
first=$!
for _ in $(seq $((120 * speed))); do grep -q 'Starting CLI' /tmp/first.log && break; sleep 1; done
kill -0 "$first" 2>/dev/null && grep -q 'Starting CLI' /tmp/first.log && echo "FIRST RUNNING"
out=$(run run "$here/sriov_vlans.py")
grep -E '^(VLANS|PING)' <<<"$out"
out=$(MNKVM_ACCEL=kvm run run "$here/sriov_pair.py" -- "$pf#1")
grep -E '^mnkvm: ' <<<"$out" | sed 's/^/INUSE /'
# SIGKILL of the first, then mnkvm -c: every VF as it was
kill -KILL "$first"; wait "$first" 2>/dev/null
mnkvm -c > /dev/null 2>&1
same sigkill
took two-runs
ls /run/mnkvm 2>/dev/null | sed 's/^/LEFT /'

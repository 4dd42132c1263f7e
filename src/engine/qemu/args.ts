// The QEMU command line of a KVM host, and the QMP arguments of the NICs
// plugged in later: pure functions of the VM's spec (unit-tested).
import { join } from 'node:path';
import type { GuestSpec } from '../backend.js';
import type { Accel } from '../guest/accel.js';
import { FIRST_NIC, kernelCmdline, MAX_NICS, MGMT } from '../guest/contract.js';
import { serialLog } from '../guest/dir.js';

/**
 * How a VM starts: a cold boot; a boot that becomes a template (its RAM in a
 * new file, shared, so that a migration with x-ignore-shared saves only the
 * device state); or a clone restored from a template (the template's RAM
 * file mapped copy-on-write, the device state migrated in).
 */
export type Boot =
  | { kind: 'cold' }
  | { kind: 'template'; ram: string }
  | { kind: 'clone'; ram: string; state: string };

/** A QEMU VM: a guest's spec, its accelerator resolved, how it boots; nsPid null: a namespace of its own (a template). */
export interface VmSpec extends Omit<GuestSpec, 'boot' | 'accel' | 'nsPid' | 'backend' | 'uri' | 'machine' | 'tune'> {
  accel: Accel;
  boot: Boot;
  nsPid: number | null;
}

/**
 * Guest RAM: anonymous for a cold boot, else the template's file (shared
 * while it is made, copy-on-write in clones); a tuned guest's (which boots
 * cold) on 2 MiB hugepages of a memfd (no hugetlbfs mount needed),
 * preallocated, and locked with the rest of QEMU's memory.
 */
function memoryArgs({ mem, boot, layout }: VmSpec): string[] {
  if (layout) {
    return ['-m', String(mem), '-object', `memory-backend-memfd,id=ram0,size=${mem}M,hugetlb=on,hugetlbsize=2M,prealloc=on,share=off`,
      '-machine', 'memory-backend=ram0', '-overcommit', 'mem-lock=on'];
  }
  if (boot.kind === 'cold') return ['-m', String(mem)];
  const backend = `memory-backend-file,id=ram0,size=${mem}M,mem-path=${boot.ram},share=${boot.kind === 'template' ? 'on' : 'off'}`;
  return ['-m', String(mem), '-object', backend, '-machine', 'memory-backend=ram0',
    ...(boot.kind === 'clone' ? ['-incoming', 'defer'] : [])];
}

/** The tap backend of the NIC in root port `port` (tapN in the namespace; vhost-net where KVM runs the guest). */
export function tapNetdev(port: number, accel: Accel, vhostNet: boolean): Record<string, string | boolean> {
  return {
    type: 'tap', id: `net${port}`, ifname: `tap${port}`, script: 'no', downscript: 'no',
    ...(accel === 'kvm' && vhostNet ? { vhost: true } : {}),
  };
}

/** The device of a NIC in root port `port`: virtio-net on tapN, or a VF passed through. */
export function nicDevice(port: number, nic: { kind: 'virtio'; mac: string } | { kind: 'vfio'; pci: string }): Record<string, string> {
  return nic.kind === 'virtio'
    ? { driver: 'virtio-net-pci', id: `nic${port}`, netdev: `net${port}`, mac: nic.mac, bus: `rp${port}` }
    : { driver: 'vfio-pci', id: `nic${port}`, host: nic.pci, bus: `rp${port}` };
}

/** A QMP argument object as a command-line option value: driver,key=value,... */
function optionValue(first: string, props: Record<string, string | boolean>): string {
  return [first, ...Object.entries(props).map(([k, v]) => `${k}=${v === true ? 'on' : v}`)].join(',');
}

/**
 * The guest's CPU: the machine's with KVM (a tuned guest's with the
 * invariant TSC, so that its clock needs no exits, and no PMU, whose
 * counters the guest would otherwise program through exits), else TCG's
 * most capable.
 */
function cpuModel({ accel, layout }: VmSpec): string {
  if (accel !== 'kvm') return 'max';
  return layout ? 'host,+invtsc,pmu=off' : 'host';
}

/** The QEMU command line of a KVM host (vhostNet: /dev/vhost-net exists). */
export function qemuArgs(spec: VmSpec, vhostNet: boolean): string[] {
  const { dir, image, accel } = spec;
  const share = spec.share ? [
    '-chardev', `pipe,id=share,path=${join(dir, 'share')}`,
    '-device', 'virtserialport,chardev=share,name=mnkvm.share,bus=vser0.0',
  ] : [];
  const rootPorts = Array.from({ length: MAX_NICS }, (_, i) =>
    ['-device', `pcie-root-port,id=rp${i + 1},bus=pcie.0,chassis=${i + 1},addr=${(0x10 + i).toString(16)}.0`]).flat();
  const { type, ...tap } = tapNetdev(FIRST_NIC.port, accel, vhostNet);
  const { driver, ...device } = nicDevice(FIRST_NIC.port, { kind: 'virtio', mac: FIRST_NIC.mac });
  const firstNic = ['-netdev', optionValue(String(type), tap), '-device', optionValue(driver, device)];
  return [
    '-name', `${spec.name},process=mnkvm:${spec.name},debug-threads=on`,
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-S',
    // TCG's translation cache defaults to 1 GiB; 64 MiB is plenty for a small guest.
    '-machine', 'q35', '-accel', accel === 'kvm' ? 'kvm' : 'tcg,tb-size=64', '-cpu', cpuModel(spec),
    ...memoryArgs(spec),
    // a tuned guest idles on its dedicated cores without exits (HLT, MWAIT and PAUSE stay in the guest)
    ...(spec.layout && accel === 'kvm' ? ['-overcommit', 'cpu-pm=on'] : []),
    '-smp', String(spec.cpus),
    '-kernel', image.kernel, '-initrd', image.initramfs, '-append', kernelCmdline(accel, image, spec.layout),
    // an image's root filesystem: one file, read-only, for all its guests
    // (their writes go to an overlay in guest memory: guest/init)
    ...(image.rootfs ? ['-drive', `file=${image.rootfs},format=raw,if=none,id=rootfs,readonly=on`,
      '-device', 'virtio-blk-pci,drive=rootfs,bus=pcie.0'] : []),
    '-serial', `file:${serialLog(dir)}`,
    '-device', 'virtio-serial-pci,id=vser0',
    '-chardev', `socket,id=con0,path=${join(dir, 'console.sock')},server=on,wait=off`,
    '-device', 'virtconsole,chardev=con0,bus=vser0.0',
    '-chardev', `pipe,id=ctl,path=${join(dir, 'ctl')}`,
    '-device', 'virtserialport,chardev=ctl,name=mnkvm.ctl,bus=vser0.0',
    ...share,
    '-netdev', 'tap,id=mgmt,ifname=mnkvm0,script=no,downscript=no',
    '-device', `virtio-net-pci,netdev=mgmt,mac=${MGMT.mac}`,
    '-object', 'rng-random,id=rng0,filename=/dev/urandom', '-device', 'virtio-rng-pci,rng=rng0',
    ...rootPorts, ...firstNic,
    '-qmp', `unix:${join(dir, 'qmp.sock')},server=on,wait=off`,
    '-pidfile', join(dir, 'qemu.pid'),
  ];
}

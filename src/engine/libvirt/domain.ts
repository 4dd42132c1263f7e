// The libvirt domain XML of a KVM host, and of the devices plugged in
// later: pure functions of the guest's spec (unit-tested). The guest is the
// one the QEMU backend runs (same kernel command line, consoles, agent port,
// first NIC and management NIC), so the guest image and the agent need not
// know which backend runs them.
import { join } from 'node:path';
import type { GuestSpec } from '../backend.js';
import type { Accel } from '../guest/accel.js';
import { FIRST_NIC, kernelCmdline, MAX_NICS, MGMT } from '../guest/contract.js';
import { serialLog } from '../guest/dir.js';
import { formatCpuList } from '../tune/cpus.js';
import type { LatencyLayout } from '../tune/layout.js';

/** What the domain is made of besides the spec: its name, QEMU, and the taps (in libvirtd's namespace) of its two NICs at start. */
export interface DomainParts { domain: string; emulator: string; accel: Accel; mgmtTap: string; firstTap: string }

/** Root ports enough for the devices at start and a KVM host's MAX_NICS NICs. */
export const ROOT_PORTS = MAX_NICS + 4;

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');

/** A virtio NIC on an existing tap of libvirtd's namespace (managed='no': libvirt neither makes nor deletes it). */
export function tapInterfaceXml(tap: string, mac: string): string {
  return `<interface type='ethernet'><mac address='${mac}'/><target dev='${escape(tap)}' managed='no'/><model type='virtio'/></interface>`;
}

/** A PCI device's address as libvirt writes it. */
export function vfAddressXml(pci: string): string {
  const [domain, bus, slotFn] = pci.split(':');
  const [slot, fn] = slotFn!.split('.');
  return `<address domain='0x${domain}' bus='0x${bus}' slot='0x${slot}' function='0x${fn}'/>`;
}

/** A VF passed through (managed='no': the VF pool has bound it to vfio-pci already). */
export function vfHostdevXml(pci: string): string {
  return `<hostdev mode='subsystem' type='pci' managed='no'><source>${vfAddressXml(pci)}</source></hostdev>`;
}

/**
 * tune=latency as libvirt's real-time guide writes it (the QEMU backend's
 * layout, tune.ts): vCPU 0 and the emulator threads on the housekeeping
 * cores, each other vCPU on its dedicated core (SCHED_FIFO 1 with KVM on an
 * isolated core); memory on 2 MiB hugepages of a memfd, preallocated,
 * locked and kept from KSM. (libvirt has no element for QEMU's cpu-pm=on.)
 */
function tuneXml(layout: LatencyLayout, accel: Accel): { memoryBacking: string; cputune: string } {
  const housekeeping = formatCpuList(layout.housekeeping);
  const dedicated = layout.dedicated.map((core, i) => `<vcpupin vcpu='${i + 1}' cpuset='${core}'/>`);
  const fifo = accel === 'kvm' && layout.fifo
    ? [`<vcpusched vcpus='1-${layout.dedicated.length}' scheduler='fifo' priority='1'/>`] : [];
  return {
    memoryBacking: `<memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages><nosharepages/><locked/>` +
      `<source type='memfd'/><access mode='private'/><allocation mode='immediate'/></memoryBacking>`,
    cputune: `<cputune><vcpupin vcpu='0' cpuset='${housekeeping}'/>${dedicated.join('')}<emulatorpin cpuset='${housekeeping}'/>${fifo.join('')}</cputune>`,
  };
}

export function domainXml(spec: Omit<GuestSpec, 'accel' | 'machine'>, parts: DomainParts): string {
  const { dir, image, layout } = spec;
  const kvm = parts.accel === 'kvm';
  const tuned = layout ? tuneXml(layout, parts.accel) : null;
  const pipe = (name: string, path: string) =>
    `<channel type='pipe'><source path='${escape(path)}'/><target type='virtio' name='${name}'/></channel>`;
  return [
    `<domain type='${parts.accel === 'kvm' ? 'kvm' : 'qemu'}'>`,
    `<name>${escape(parts.domain)}</name>`,
    `<memory unit='MiB'>${spec.mem}</memory>`,
    ...(tuned ? [tuned.memoryBacking] : []),
    `<vcpu placement='static'>${spec.cpus}</vcpu>`,
    ...(tuned ? [tuned.cputune] : []),
    `<os><type arch='x86_64' machine='q35'>hvm</type><kernel>${escape(image.kernel)}</kernel>`,
    `<initrd>${escape(image.initramfs)}</initrd><cmdline>${escape(kernelCmdline(parts.accel, image, layout))}</cmdline></os>`,
    // ACPI on, as QEMU has it (without it libvirt 9 passes -no-acpi, which QEMU 10 no longer takes);
    // a tuned guest with KVM: no PMU, the invariant TSC (as the QEMU backend's, args.ts)
    `<features><acpi/><apic/>${layout && kvm ? `<pmu state='off'/>` : ''}</features>`,
    !kvm ? `<cpu mode='maximum'/>` : layout ? `<cpu mode='host-passthrough'><feature policy='require' name='invtsc'/></cpu>` : `<cpu mode='host-passthrough'/>`,
    // QEMU runs as root, unconfined, as the QEMU backend's does: it opens the
    // run's sockets and FIFOs under /run/mnkvm, and libvirt relabels nothing.
    `<seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>`,
    `<on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>`,
    `<devices>`,
    `<emulator>${escape(parts.emulator)}</emulator>`,
    `<serial type='file'><source path='${escape(serialLog(dir))}'/><target port='0'/></serial>`,
    `<console type='unix'><source mode='bind' path='${escape(join(dir, 'console.sock'))}'/><target type='virtio'/></console>`,
    pipe('mnkvm.ctl', join(dir, 'ctl')),
    ...(spec.share ? [pipe('mnkvm.share', join(dir, 'share'))] : []),
    tapInterfaceXml(parts.mgmtTap, MGMT.mac),
    tapInterfaceXml(parts.firstTap, FIRST_NIC.mac),
    `<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>`,
    // an image's root filesystem, read-only, shared by its guests (as the QEMU backend's)
    ...(image.rootfs ? [`<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${escape(image.rootfs)}'/>` +
      `<target dev='vda' bus='virtio'/><readonly/><shareable/></disk>`] : []),
    // PCIe root ports: libvirt places each PCIe device in one, those at start
    // (NICs, consoles, RNG) and those hot-plugged later (which need a free one)
    `<controller type='pci' index='0' model='pcie-root'/>`,
    ...Array.from({ length: ROOT_PORTS + (image.rootfs ? 1 : 0) }, () => `<controller type='pci' model='pcie-root-port'/>`),
    `<memballoon model='none'/>`,
    `</devices>`,
    `</domain>`,
  ].join('\n');
}

// What every backend owes a guest, whichever runs it (QEMU here, libvirt
// here or on a server, the fake): the guest image and its agent know no
// backend, so each gives its guests the same management link (SSH logs in
// over it), the same first NIC, the same kernel command line, and at most
// MAX_NICS links (the engine keeps that count). The rest of the guest's
// side lives beside this file: its runtime folder (dir.ts), its agent
// (agent.ts), its shared folder's server (fileserver.ts) and its
// accelerator (accel.ts).
import type { Accel } from './accel.js';
import type { GuestImage } from '../image.js';
import { latencyCmdline, type LatencyLayout } from '../tune/layout.js';

/** A KVM host has at most this many links (QEMU: one PCIe root port each, made at start). */
export const MAX_NICS = 8;

/** Why intf gets no NIC: no PCIe slot is free; why: by default, the host has MAX_NICS links already. */
export function noFreeSlot(host: string, intf: string, why = `a KVM host has at most ${MAX_NICS} links`): string {
  return `${host}: no free PCIe slot for ${intf}: ${why}`;
}

/**
 * The NIC every guest starts with (in root port 1; the template has it, so
 * clones do too): the first link takes it over, with its own MAC and name.
 */
export const FIRST_NIC = { port: 1, mac: '52:54:00:00:01:01' };
/**
 * The management link (SSH for popen) is private to each namespace, so every
 * VM uses the same addresses (guest/init knows its NIC by this MAC).
 */
export const MGMT = { mac: '52:54:00:00:00:01', host: '169.254.0.1', guest: '169.254.0.2', prefix: 30 };

/** How popen() and terminals log in to the guest: as root over the management link, with its image's key. */
export function mgmtSsh(image: GuestImage): { key: string; target: string } {
  return { key: image.sshKey, target: `root@${MGMT.guest}` };
}

/**
 * The guest kernel's command line (every backend boots the image's kernel
 * directly; an image's root filesystem is its only disk); a tuned guest's
 * (layout: tune=latency) isolates its vCPUs 1 and up (tune.ts).
 */
export function kernelCmdline(accel: Accel, image: GuestImage, layout: LatencyLayout | null = null): string {
  return [
    'console=ttyS0', 'quiet', 'panic=-1', 'mitigations=off', 'random.trust_cpu=on',
    `mnkvm.mgmt=${MGMT.guest}/${MGMT.prefix}`,
    ...(image.rootfs ? ['mnkvm.rootfs=/dev/vda'] : []),
    // TCG looks translated code up by virtual address: with the libraries of
    // every process at the same place, each exec of ip, tc or ifconfig reuses
    // the code earlier ones had translated (3x faster commands in the guest).
    ...(accel === 'tcg' ? ['norandmaps'] : []),
    ...(layout ? latencyCmdline(layout.dedicated.length + 1) : []),
  ].join(' ');
}

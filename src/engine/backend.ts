// The seam between the engine and what runs a KVM host's guest, after Kata
// Containers' networking: one interface, one implementation per kind. The
// engine (engine.ts) gives guests their identity, queues their NIC changes
// and keeps the run's record; a backend starts, wires and stops guests.
// QemuBackend (qemu/) runs QEMU on this machine; FakeBackend (fake.ts) runs
// nothing, for the contract tests every backend passes (test/contract.ts).
// What every backend gives the guest itself is guest/'s (guest/contract.ts).
import { MnkvmError } from './errors.js';
import type { KvmHostOptions } from './options.js';
import type { GuestImage } from './image.js';
import type { Machine } from './machine.js';
import type { LatencyLayout } from './tune/layout.js';

/** What a KVM host's guest is made from: its options, where it runs, its namespace and its runtime folder. */
export interface GuestSpec extends Omit<KvmHostOptions, 'image' | 'cores'> {
  name: string;
  /** The machine it runs on: this one, or a server of the run (only the libvirt backend runs guests on servers). */
  machine: Machine;
  /** The pid (on machine) whose network namespace the guest's NICs are wired in (the KVMHost's namespace). */
  nsPid: number;
  /** Runtime folder on machine: sockets, logs. */
  dir: string;
  /** The image, as machine has it (paths there). */
  image: GuestImage;
  /** tune=latency: where its threads run (the engine has claimed the dedicated cores); null: anywhere. */
  layout: LatencyLayout | null;
}

/**
 * What a guest NIC is wired to, all named in the guest as `intf`:
 * - tap: the veth end `intf` that Mininet made in the host's namespace; the
 *   NIC's tap is joined to it by tc mirred redirects both ways;
 * - vf: an SR-IOV virtual function (PCI address, bound to vfio-pci), passed
 *   through; it carries `mac`, which its physical function gave it;
 * - tunnel: a VXLAN end made for the link (to a host on another server),
 *   joined to the NIC's tap as a veth is; UDP from `local` to `remote`:`remotePort`,
 *   received on `port`.
 */
export type NicAttachment =
  | { kind: 'tap'; intf: string }
  | { kind: 'vf'; intf: string; pci: string; mac: string }
  | { kind: 'tunnel'; intf: string; vni: number; local: string; remote: string; port: number; remotePort: number };

export type NicKind = NicAttachment['kind'];

/** A NIC as the guest sees it now (guestMac) and the MAC it must carry (mac): the guest agent renames and readdresses it. */
export interface AttachedNic { guestMac: string; mac: string }

/** A running guest, ready for its agent (guest/mnkvm-agent.c). */
export interface Guest {
  readonly name: string;
  /** How its CPU runs: KVM, TCG (emulated), or nothing at all (the fake). */
  readonly accel: 'kvm' | 'tcg' | 'none';
  /** Started as a clone of a snapshot template (its shell printed its prompt there). */
  readonly restored: boolean;
  /** Its process on this machine, or null where it has none here. */
  readonly pid: number | null;
  /** The intfs it has a NIC for (attached, not detached yet): the engine gives each intf one NIC, and at most MAX_NICS in all. */
  readonly intfs: ReadonlySet<string>;
  /** The Unix socket of the guest shell's console (Mininet's cmd() runs over it). */
  readonly console: string;
  /** How popen() and terminals log in: ssh -i key target, run in the host's namespace. */
  readonly ssh: { key: string; target: string };
  /** One request to the guest agent: identity, nic, unplug or mount. */
  agent(request: string): Promise<void>;
  /** Plug in a NIC for nic.intf (the engine has checked that it has none, and that it has fewer than MAX_NICS). */
  attach(nic: NicAttachment): Promise<AttachedNic>;
  /** Unplug intf's NIC (the guest agent has let go of it). */
  detach(intf: string): Promise<void>;
  /** Run the guest on these cores of the machine only. */
  pin(cores: number[]): Promise<void>;
  /** Stop it and remove its runtime folder; a second call does nothing. */
  stop(): Promise<void>;
  /** Its last console lines, and whether it has ended, for error messages. */
  diagnostics(): Promise<string[]>;
  alive(): boolean;
}

/** A line for the user, at a Mininet log level: 'info' for how things are (-v output hides it), 'warn' for what works less well than asked. */
export interface Notice { level: 'info' | 'warn'; line: string }

export interface VmBackend {
  /**
   * Start spec's guest (a clone of a template where spec.boot is 'clone'
   * and the backend can, else a cold boot) and wait until its agent can
   * answer; a guest that does not come up is stopped, and the error says
   * why, with its last console lines.
   */
  start(spec: GuestSpec): Promise<Guest>;
}

/** Why a guest failed where its bootTimeout (seconds) ran out before what happened, with how to raise it. */
export function bootTimedOut(seconds: number, what = 'did not reach its shell'): string {
  return `${what} within ${seconds} s (where guests boot slowly, under TCG or on a nested or busy machine, ` +
    `raise bootTimeout: --host kvm,bootTimeout=${seconds * 4})`;
}

/** What a guest that failed says, in one line where its init said why ("mnkvm-guest: failed: ..."), else why and its last console lines. */
export function guestFailure(name: string, why: string, lines: string[]): string {
  const said = lines.map((l) => /^mnkvm-guest: failed: (.*)$/.exec(l)?.[1]).find(Boolean);
  return said ? `${name}: ${said}` : `${name}: guest ${why}; last console lines:\n${lines.join('\n') || '(none)'}`;
}

/** Stop a guest that did not come up; the error says why, with its last console lines (kind guest). */
export async function guestFailed(guest: Guest, why: string): Promise<MnkvmError> {
  const lines = await guest.diagnostics();
  await guest.stop();
  return new MnkvmError(guestFailure(guest.name, why, lines), 'guest', { host: guest.name, console: lines });
}

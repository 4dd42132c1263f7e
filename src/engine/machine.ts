// Where a guest runs: this machine, or a server of the run (--servers,
// src/cluster/). The libvirt backend does everything around a domain
// (taps, namespaces, the guest's runtime folder, its agent and console)
// through a Machine, so that one backend runs guests here and on servers:
// LocalMachine here, ServerMachine (src/cluster/machine.ts) over the run's
// SSH connection to a server, recording in that server's record.
import { localAccel, type AccelChoice, type AccelChosen } from './guest/accel.js';
import { fifoLink, type AgentLink } from './guest/agent.js';
import { startFileServer } from './guest/fileserver.js';
import { killIfSame, run, type Runner } from './proc.js';
import type { NameKind } from './claims.js';
import type { RunRecord } from './records.js';

export type { AgentLink };

/** What a guest's backend makes on a machine, for the record there. */
export type MachineResource = { kind: 'intf'; name: string } | { kind: 'domain'; name: string; uri: string };

/** A Unix socket here that reaches one on the machine (the guest's console); close() stops it. */
export interface Reached { path: string; close(): void }

export interface Machine {
  /** The server's name, or null for this machine. */
  readonly server: string | null;
  /** The run's folder there (its record's): guests' runtime folders go under it, and go with the record. */
  readonly dir: string;
  /** libvirtd there, as this machine connects to it (@unraid/libvirt), and as commands there name it (virsh, the record). */
  libvirtUri(uri: string): { connect: string; there: string };
  /** The accelerator a guest there gets for choice, and a line for the user where it is TCG. */
  accel(choice: AccelChoice): AccelChosen;
  /** Run a command there as root (as proc.run does here); a function of its own (it is passed around as a Runner). */
  readonly run: Runner;
  /** Claim a name there for the run (a clash is one line). */
  claim(kind: NameKind, name: string): Promise<void>;
  /** Record a thing there before it is made: the run's end removes it. */
  add(resource: MachineResource): Promise<void>;
  /** Talk to the guest agent over QEMU's pipe chardev on the FIFOs fifo.in and fifo.out there. */
  agentLink(fifo: string): Promise<AgentLink>;
  /** A Unix socket here for socket `path` there; `local`: where to make it if it must be made. */
  reach(path: string, local: string): Promise<Reached>;
  /** Serve the machine's files to host's guest's sshfs (share=) over QEMU's pipe chardev on the FIFOs share.in and share.out of its runtime folder dir; the result stops it. */
  serveFiles(host: string, dir: string): Promise<() => void>;
}

/** This machine: commands run here, the run's record is here. */
export class LocalMachine implements Machine {
  readonly server = null;

  constructor(private readonly record: RunRecord) {}

  get dir(): string {
    return this.record.dir;
  }

  libvirtUri(uri: string): { connect: string; there: string } {
    return { connect: uri, there: uri };
  }

  accel(choice: AccelChoice): AccelChosen {
    return localAccel(choice);
  }

  readonly run: Runner = run;

  async claim(kind: NameKind, name: string): Promise<void> {
    this.record.claim(kind, name);
  }

  async add(resource: MachineResource): Promise<void> {
    this.record.add(resource);
  }

  async agentLink(fifo: string): Promise<AgentLink> {
    return fifoLink(fifo);
  }

  async reach(path: string): Promise<Reached> {
    return { path, close: () => undefined };
  }

  async serveFiles(host: string, dir: string): Promise<() => void> {
    const server = await startFileServer({ name: host, dir, clone: false }, this.record);
    return () => { killIfSame(server, 'SIGKILL', false); };
  }
}

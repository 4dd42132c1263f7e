// FakeBackend: guests that are not there. It answers at once and keeps
// what each guest was told, but checks what every backend checks and does
// the machine's side of a NIC for real (a veth end must exist, a tunnel
// end is made, a VF must be bound to vfio-pci): the contract tests
// (test/contract.ts) hold it to the same expectations as QemuBackend, in
// milliseconds instead of guest boots.
import { rmSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { AttachedNic, Guest, GuestSpec, NicAttachment, VmBackend } from './backend.js';
import { prepareFarEnd, removeFarEnd } from './nics.js';
import type { RunRecord } from './records.js';

/** The guest agent's requests (guest/mnkvm-agent.c), as the agent parses them. */
const AGENT_REQUESTS = {
  identity: /^identity \S+ \d+ [0-9a-f]{64}$/,
  nic: /^nic (?:[0-9a-f]{2}:){5}[0-9a-f]{2} \S+ (?:[0-9a-f]{2}:){5}[0-9a-f]{2}$/,
  unplug: /^unplug \S+$/,
  mount: /^mount \/\S*$/,
};

export class FakeBackend implements VmBackend {
  readonly guests: FakeGuest[] = [];

  constructor(private readonly record: RunRecord) {}

  async start(spec: GuestSpec): Promise<Guest> {
    const guest = await FakeGuest.start(spec, this.record);
    this.guests.push(guest);
    return guest;
  }
}

export class FakeGuest implements Guest {
  readonly accel = 'none';
  readonly pid = null;
  readonly console: string;
  readonly ssh: Guest['ssh'];
  /** What the guest agent was asked, in order. */
  readonly requests: string[] = [];
  readonly nics = new Map<string, NicAttachment>();
  cores: number[] | null = null;
  private running = true;

  private constructor(readonly spec: GuestSpec, private readonly server: Server, private readonly record: RunRecord) {
    this.console = join(spec.dir, 'console.sock');
    this.ssh = { key: spec.image.sshKey, target: 'root@fake-guest' };
  }

  static async start(spec: GuestSpec, record: RunRecord): Promise<FakeGuest> {
    rmSync(spec.dir, { recursive: true, force: true });
    mkdirSync(spec.dir, { recursive: true });
    // a console that accepts connections and stays silent
    const server = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(join(spec.dir, 'console.sock'), resolve));
    return new FakeGuest(spec, server, record);
  }

  get name(): string { return this.spec.name; }
  get restored(): boolean { return this.spec.boot === 'clone'; }
  get intfs(): ReadonlySet<string> { return new Set(this.nics.keys()); }

  async agent(request: string): Promise<void> {
    if (!this.running) throw new Error('the guest has stopped');
    const kind = request.split(' ')[0] as keyof typeof AGENT_REQUESTS;
    if (!AGENT_REQUESTS[kind]?.test(request)) throw new Error(`bad request: ${request}`);
    this.requests.push(request);
  }

  async attach(nic: NicAttachment): Promise<AttachedNic> {
    const mac = await prepareFarEnd(this.name, this.spec.nsPid, nic, this.record);
    this.nics.set(nic.intf, nic);
    return { guestMac: mac, mac };
  }

  async detach(intf: string): Promise<void> {
    const nic = this.nics.get(intf);
    this.nics.delete(intf);
    if (nic) await removeFarEnd(this.spec.nsPid, nic);
  }

  async pin(cores: number[]): Promise<void> {
    this.cores = cores;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.spec.dir, { recursive: true, force: true });
  }

  async diagnostics(): Promise<string[]> {
    return [...this.requests.slice(-10), ...(this.running ? [] : ['(the fake guest has stopped)'])];
  }

  alive(): boolean {
    return this.running;
  }
}

// A run's servers (`--servers`): connected, checked and each given its own
// record of the run before anything starts; closed (each server sweeps its
// record) when the run ends. Servers a run used are remembered on this
// machine, so that `mnkvm -c` cleans them too.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerFabricRequest, ServerInfo, ServerRecordRequest, Servers } from '../engine/calls.js';
import type { SriovLinkMade } from '../engine/links.js';
import { MnkvmError } from '../engine/errors.js';
import { RUN_ROOT } from '../engine/paths.js';
import type { Machine } from '../engine/machine.js';
import { ServerConnection } from './connection.js';
import { ServerMachine, shellQuote } from './machine.js';
import { checkReach, describeFacts, preflight, type ServerFacts } from './preflight.js';
import { ServerKeeper } from './keeper.js';
import { sshAlias, sshConfig, type Placer, type ServerSpec } from './servers.js';

/** Servers runs used, one file each: `mnkvm -c` cleans them. */
const KNOWN = join(RUN_ROOT, 'servers');

export class Cluster implements Servers {
  private constructor(
    private readonly specs: ServerSpec[],
    private readonly facts: ServerFacts[],
    private readonly connections: ServerConnection[],
    private readonly keepers: ServerKeeper[],
    readonly placement: Placer,
    private readonly configFile: string,
    private readonly machines: ServerMachine[],
  ) {}

  /**
   * Connect to every server, check each, then start each one's record;
   * one line for the first that fails, and nothing is left on any.
   * dir: the run's folder (the ssh_config for Mininet's ssh goes there).
   */
  static async open(specs: ServerSpec[], placement: Placer, dir: string, log: (line: string) => void): Promise<Cluster> {
    const connections: ServerConnection[] = [];
    const keepers: ServerKeeper[] = [];
    try {
      const opened = await Promise.allSettled(specs.map((s) => ServerConnection.open(s)));
      for (const o of opened) if (o.status === 'fulfilled') connections.push(o.value);
      const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      const facts = await Promise.all(connections.map((c) => preflight(c, c.spec.data)));
      await checkReach(connections, facts);
      for (const f of facts) log(`*** ${describeFacts(f)}`);
      for (const spec of specs) remember(spec);
      for (const c of connections) keepers.push(await ServerKeeper.open(c));
      const configFile = join(dir, 'ssh_config');
      writeFileSync(configFile, sshConfig(specs, dir));
      // ssh with the run's config, for libvirt's qemu+ssh transport (which
      // runs a command it is given, without arguments of ours); a connection
      // of its own, not one multiplexed over a node shell's (which ends with
      // its network, and would take libvirt's connection with it)
      const ssh = join(dir, 'ssh');
      writeFileSync(ssh, `#!/bin/sh\nexec ssh -F ${shellQuote(configFile)} -o ControlMaster=no -o ControlPath=none "$@"\n`, { mode: 0o755 });
      const machines = connections.map((c, i) => new ServerMachine(c, keepers[i], sshAlias(c.spec), ssh, facts[i].kvm));
      return new Cluster(specs, facts, connections, keepers, placement, configFile, machines);
    } catch (e) {
      await Promise.all(keepers.map((k) => k.close()));
      for (const c of connections) c.close();
      throw e;
    }
  }

  list(): ServerInfo[] {
    return this.specs.map((s, i) => ({ name: s.name, alias: sshAlias(s), user: s.user, data: this.facts[i].data, dataIntf: this.facts[i].dataIntf }));
  }

  sshConfig(): string {
    return this.configFile;
  }

  async record(server: string, request: ServerRecordRequest): Promise<void> {
    await this.keepers[this.index(server)].request(request);
  }

  async fabric(server: string, request: ServerFabricRequest): Promise<SriovLinkMade | null> {
    return (await this.keepers[this.index(server)].request({ fabric: request })) as SriovLinkMade | null;
  }

  machine(server: string): Machine {
    return this.machines[this.index(server)];
  }

  private index(server: string): number {
    const i = this.specs.findIndex((s) => s.name === server);
    if (i < 0) throw new MnkvmError(`no server named ${server} in this run: its servers are ${this.specs.map((s) => s.name).join(', ')}`);
    return i;
  }

  /** End the run on every server: each sweeps its record; a line per server that removed something or could not say. */
  async close(): Promise<string[]> {
    const swept = await Promise.all(this.keepers.map((k) => k.close()));
    for (const c of this.connections) c.close();
    return swept.flatMap((what, i) => (what === null ? [`${this.specs[i].name}: the connection was lost; the server removes what the run left itself`]
      : what ? [`${this.specs[i].name}: ${what}`] : []));
  }
}

function knownFile(spec: ServerSpec): string {
  return join(KNOWN, `${sshAlias(spec)}.json`);
}

function remember(spec: ServerSpec): void {
  mkdirSync(KNOWN, { recursive: true });
  writeFileSync(knownFile(spec), JSON.stringify(spec));
}

/**
 * `mnkvm -c` on every server a run used: a line per server; one that
 * cannot be reached is one line, and the others are still cleaned.
 * testbedUp: whether a virtual testbed is up (its servers are forgotten once it is down).
 */
export async function cleanServers(testbedUp: boolean, log: (line: string) => void): Promise<void> {
  if (!existsSync(KNOWN)) return;
  for (const file of readdirSync(KNOWN)) {
    const spec = JSON.parse(readFileSync(join(KNOWN, file), 'utf8')) as ServerSpec;
    if (spec.testbed && !testbedUp) {
      rmSync(join(KNOWN, file), { force: true });
      continue;
    }
    let connection: ServerConnection | null = null;
    try {
      connection = await ServerConnection.open(spec);
      const r = await connection.run(connection.asRoot('mnkvm -c'));
      for (const line of r.stdout.split('\n').filter((l) => l.startsWith('*** ') && !/Removing what|Cleanup complete \(0 runs\)/.test(l))) {
        log(`*** ${spec.name}: ${line.slice(4)}`);
      }
      if (r.code !== 0) throw new MnkvmError(`${spec.name}: mnkvm -c failed there (${r.stderr.trim() || `exit ${r.code}`})`);
      rmSync(join(KNOWN, file), { force: true });
    } catch (e) {
      log(`*** ${(e as Error).message.split('\n')[0]}; run mnkvm -c again once it answers`);
    } finally {
      connection?.close();
    }
  }
  if (!readdirSync(KNOWN).length) rmSync(KNOWN, { recursive: true, force: true });
}

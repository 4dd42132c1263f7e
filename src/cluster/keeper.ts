// A run's keeper on each server: `mnkvm server-record`, which the run starts
// there over its SSH connection. It keeps the server's own record of what
// the run made there: an ordinary mnkvm run record (records.ts: names
// claimed before they are made, a guard that sweeps it when its owner
// dies). It also makes the run's SR-IOV links there, with a fabric of its
// own (its VF pool, in its record), so that what a link took is swept with
// the rest. The run sends one request per line; when the line ends (the run
// ended, or was killed and its connection dropped, or it stopped saying it
// is alive), the server sweeps the record itself. `mnkvm -c` there sweeps
// what a killed keeper's guard could not.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { MnkvmError } from '../engine/errors.js';
import type { Notice } from '../engine/backend.js';
import type { ServerFabricRequest, ServerRecordRequest } from '../engine/calls.js';
import type { FabricFactory, LinkFabric, SriovLinkMade } from '../engine/links.js';
import { RunRecord } from '../engine/records.js';
import { describeSweep } from '../engine/sweep.js';
import type { ServerConnection } from './connection.js';

/**
 * A run says it is alive every HEARTBEAT_MS (an empty line); a server
 * that hears nothing for LOST_MS takes the run as gone and sweeps. A
 * killed run's connection may never close there: QEMU's user network, a
 * cut cable or a crashed machine leave it half open.
 */
const HEARTBEAT_MS = 5000;
const LOST_MS = 20_000;

/** A line the run sends a server's keeper: for its record, or for its fabric. */
export type KeeperRequest = ServerRecordRequest | { fabric: ServerFabricRequest };

/**
 * The server's side (`mnkvm server-record`): answers `ok`, `ok JSON` (a
 * fabric's answer) or `error JSON` per request; `swept WHAT` at the end.
 * makeFabric: what makes SR-IOV links there (src/sriov/fabric.ts, given by
 * the CLI: this layer does not reach it).
 */
export async function keepRun(input: Readable, output: Writable, makeFabric: FabricFactory): Promise<void> {
  const record = RunRecord.create();
  let fabric: LinkFabric | null = null;
  let notices: Notice[] = [];
  const serveFabric = async (request: ServerFabricRequest): Promise<SriovLinkMade | null> => {
    fabric ??= makeFabric(record, (line, level = 'info') => { notices.push({ level, line }); });
    if ('unlink' in request) {
      await fabric.unlink(request.unlink.id);
      return null;
    }
    const made = 'link' in request ? await fabric.link(request.link.id, request.link.ends, request.link.options)
      : await fabric.half(request.half.id, request.half.end, request.half.options, request.half.vlan);
    [made.notices, notices] = [[...made.notices, ...notices], []];
    return made;
  };
  output.write(`record ${record.dir}\n`);
  const lines = createInterface({ input });
  let heard = Date.now();
  const watch = setInterval(() => { if (Date.now() - heard > LOST_MS) lines.close(); }, 1000);
  for await (const line of lines) {
    heard = Date.now();
    if (!line) continue;   // a heartbeat
    try {
      const request = JSON.parse(line) as KeeperRequest;
      if ('fabric' in request) {
        output.write(`ok ${JSON.stringify(await serveFabric(request.fabric))}\n`);
        continue;
      }
      if ('claim' in request) record.claim(request.claim.of, request.claim.name);
      else if ('release' in request) record.release(request.release.of, request.release.name);
      else record.add(request.add);
      output.write('ok\n');
    } catch (e) {
      output.write(`error ${JSON.stringify(MnkvmError.record(e))}\n`);
    }
  }
  clearInterval(watch);
  const swept = describeSweep(await record.sweep());
  // (the run may be gone: nobody reads this)
  output.on('error', () => undefined);
  output.write(`swept ${swept}\n`);
}

/** The run's side: requests to a server's keeper, one at a time, in order. */
export class ServerKeeper {
  private readonly answers: ((line: string | null) => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private ended = false;
  /** The record's folder there (what the run makes in it goes with the record). */
  dir = '';

  private readonly heartbeat: NodeJS.Timeout;

  private constructor(private readonly server: string, private readonly channel: ClientChannel) {
    // (unref: it never keeps mnkvm running)
    this.heartbeat = setInterval(() => { if (!this.ended) channel.write('\n'); }, HEARTBEAT_MS).unref();
    const lines = createInterface({ input: channel });
    lines.on('line', (line) => this.answers.shift()?.(line));
    lines.on('close', () => {
      this.ended = true;
      clearInterval(this.heartbeat);
      for (const answer of this.answers.splice(0)) answer(null);
    });
  }

  /** Start the server's keeper. */
  static async open(connection: ServerConnection): Promise<ServerKeeper> {
    const channel = await connection.start(`exec ${connection.asRoot('mnkvm server-record')}`);
    let errors = '';
    channel.stderr.on('data', (d: Buffer) => { errors += d.toString(); });
    const keeper = new ServerKeeper(connection.spec.name, channel);
    const first = await keeper.next();
    if (!first?.startsWith('record ')) {
      throw new MnkvmError(`${connection.spec.name}: mnkvm there could not keep the run's record (${(first ?? errors.trim()) || 'no answer'}): ` +
        'update mnkvm there (ansible-playbook site.yml)');
    }
    keeper.dir = first.slice('record '.length);
    return keeper;
  }

  /** Send a request; resolves with what the server answered with it (a fabric's answer), rejects with its error (a clash there is one line naming the server). */
  request(request: KeeperRequest): Promise<unknown> {
    const done = this.queue.then(async () => {
      const answer = this.next();
      this.channel.write(`${JSON.stringify(request)}\n`);
      const line = await answer;
      if (line === 'ok') return undefined;
      if (line?.startsWith('ok ')) return JSON.parse(line.slice(3)) as unknown;
      if (line?.startsWith('error ')) {
        const error = JSON.parse(line.slice(6)) as { message: string; kind: string; details: Record<string, unknown> };
        throw new MnkvmError(`${this.server}: ${error.message}`, error.kind === 'clash' ? 'clash' : 'usage', { ...error.details, server: this.server });
      }
      throw new MnkvmError(`${this.server}: the connection to the server was lost: what the run made there is removed by the server itself`);
    });
    this.queue = done.catch(() => undefined);
    return done;
  }

  /** End the run's requests: the server sweeps the record; what it removed ('' for nothing, null if it could not say). */
  async close(): Promise<string | null> {
    await this.queue;
    clearInterval(this.heartbeat);
    if (this.ended) return null;
    const last = this.next();
    this.channel.end();
    const line = await last;
    return line?.startsWith('swept ') ? line.slice(6) : null;
  }

  private next(): Promise<string | null> {
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.answers.push(resolve));
  }
}

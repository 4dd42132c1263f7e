// One SSH connection per server (ssh2), kept alive for the run; every
// command mnkvm runs there is a channel of it. sshd takes at most
// MaxSessions channels on one connection (OpenSSH: 10), and each KVM host
// there holds two for the run (its console, its agent): where a server
// refuses a channel, another connection is opened beside the first.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { MnkvmError } from '../engine/errors.js';
import type { RunResult } from '../engine/proc.js';
import type { ServerSpec } from './servers.js';

/** Seconds to wait for a server's SSH handshake. */
const CONNECT_TIMEOUT = 15;

export class ServerConnection {
  private closed = false;
  /** The connections to the server: the first, and those opened where it refused a channel. */
  private readonly clients: Client[];

  private constructor(readonly spec: ServerSpec, client: Client) {
    this.clients = [];
    this.add(client);
  }

  /** Use client too; a lost one is dropped, and with the last the connection is closed. */
  private add(client: Client): void {
    this.clients.push(client);
    client.once('close', () => {
      this.clients.splice(this.clients.indexOf(client), 1);
      if (!this.clients.length) this.closed = true;
    });
  }

  /** Connect, or one line naming the server and why not. */
  static async open(spec: ServerSpec): Promise<ServerConnection> {
    return new ServerConnection(spec, await ServerConnection.connect(spec));
  }

  private static connect(spec: ServerSpec): Promise<Client> {
    const client = new Client();
    const config: ConnectConfig = {
      host: spec.host, port: spec.port, username: spec.user, readyTimeout: CONNECT_TIMEOUT * 1000,
      // a server that stops answering is noticed within 15 s, not never
      keepaliveInterval: 5000, keepaliveCountMax: 3,
      ...credentials(spec),
    };
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        client.end();
        reject(new MnkvmError(`${spec.name}: cannot reach it over SSH (${spec.user}@${spec.host}:${spec.port}: ${e.message}): ` +
          (spec.testbed ? 'is the testbed up (`mnkvm testbed status`)?' : 'check that `ssh -p PORT USER@HOST` logs in without a password'),
        'usage', { server: spec.name }));
      };
      client.once('ready', () => {
        client.off('error', fail);
        client.on('error', () => undefined);   // a lost connection fails the commands under way
        resolve(client);
      });
      client.once('error', fail);
      client.connect(config);
    });
  }

  /** command as root there: through sudo for a user who is not (passwordless, as Mininet's cluster edition needs too). */
  asRoot(command: string): string {
    return this.spec.user === 'root' ? command : `sudo -n ${command}`;
  }

  /** Start a command (a shell command line) on the server; its channel (on another connection where the server refuses one more on those open). */
  async start(command: string): Promise<ClientChannel> {
    if (this.closed) throw new MnkvmError(`${this.spec.name}: the SSH connection is closed`);
    let refused: Error | null = null;
    for (const client of [...this.clients].reverse()) {
      try {
        return await exec(client, command);
      } catch (e) {
        refused = e as Error;
      }
    }
    if (!/Channel open failure/.test(refused?.message ?? '')) throw new MnkvmError(`${this.spec.name}: ${refused?.message}`);
    const client = await ServerConnection.connect(this.spec);
    this.add(client);
    return exec(client, command).catch((e: Error) => { throw new MnkvmError(`${this.spec.name}: ${e.message}`); });
  }

  /** Run a command on the server and collect its output and exit code (as proc.run does here). */
  async run(command: string, input?: string): Promise<RunResult> {
    const channel = await this.start(command);
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      let code = 255;
      channel.on('data', (d: Buffer) => { stdout += d.toString(); });
      channel.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      channel.on('exit', (c: number | null) => { code = c ?? 255; });
      channel.on('close', () => resolve({ stdout, stderr, code }));
      if (input !== undefined) channel.end(input);
      else channel.end();
    });
  }

  close(): void {
    this.closed = true;
    for (const client of this.clients) client.end();
  }
}

function exec(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel))));
}

/** The key a server is reached with: its own, else the user's usual ones, else the SSH agent. */
function credentials(spec: ServerSpec): Partial<ConnectConfig> {
  const keys = spec.key ? [spec.key] : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => join(homedir(), '.ssh', k));
  const key = keys.find((k) => existsSync(k));
  return {
    ...(key ? { privateKey: readFileSync(key) } : {}),
    ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
  };
}

// A server of the run as the libvirt backend uses it (engine/machine.ts):
// its commands are channels of the run's SSH connection there (as root,
// through sudo for a user who is not), what they make is claimed and
// recorded in the server's record of the run, and its libvirtd is reached
// over qemu+ssh through the run's ssh_config.
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { serverAccel, type AccelChoice, type AccelChosen } from '../engine/guest/accel.js';
import { SFTP_SERVER } from '../engine/guest/fileserver.js';
import type { AgentLink, Machine, MachineResource, Reached } from '../engine/machine.js';
import { SYSTEM_LIBVIRT } from '../engine/options.js';
import type { Runner } from '../engine/proc.js';
import type { NameKind } from '../engine/claims.js';
import type { ServerConnection } from './connection.js';
import type { ServerKeeper } from './keeper.js';

/** A word for a POSIX shell, quoted. */
export const shellQuote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

export class ServerMachine implements Machine {
  /**
   * alias: the server's name in the run's ssh_config; ssh: a command that
   * runs ssh with that config (libvirt's ssh transport runs it); kvm: the
   * server has /dev/kvm (its preflight said).
   */
  constructor(private readonly connection: ServerConnection, private readonly keeper: ServerKeeper,
    private readonly alias: string, private readonly ssh: string, private readonly kvm: boolean) {}

  get server(): string {
    return this.connection.spec.name;
  }

  get dir(): string {
    return this.keeper.dir;
  }

  /**
   * qemu+ssh to the server's own libvirtd (qemu:///system there), through
   * the run's ssh_config: its address, port, key and host key rules (on a
   * connection of its own: cluster.ts).
   */
  libvirtUri(): { connect: string; there: string } {
    const user = this.connection.spec.user;
    return {
      connect: `qemu+ssh://${user}@${this.alias}/system?command=${this.ssh}&no_tty=1`,
      there: SYSTEM_LIBVIRT,
    };
  }

  accel(choice: AccelChoice): AccelChosen {
    return serverAccel(this.server, this.kvm, choice);
  }

  readonly run: Runner = (cmd, args, input) => this.connection.run(this.asRoot([cmd, ...args]), input);

  /** A command line of words, each quoted, run as root there. */
  private asRoot(words: string[]): string {
    return this.connection.asRoot(words.map(shellQuote).join(' '));
  }

  async claim(kind: NameKind, name: string): Promise<void> {
    await this.keeper.request({ claim: { of: kind, name } });
  }

  async add(resource: MachineResource): Promise<void> {
    await this.keeper.request({ add: resource });
  }

  /**
   * The FIFOs there, opened read-write as here (engine/guest/agent.ts) by a shell whose
   * input goes to the guest and whose output is the guest's: it ends, and
   * takes its reader with it, when the channel closes.
   */
  async agentLink(fifo: string): Promise<AgentLink> {
    const script = 'exec 3<>"$1.in" 4<>"$1.out"; cat <&4 & trap \'kill $! 2>/dev/null\' EXIT; cat >&3';
    const channel = await this.connection.start(this.asRoot(['sh', '-c', script, 'sh', fifo]));
    channel.on('error', () => undefined);
    return { input: channel, write: (line) => { channel.write(line); }, close: () => { channel.end(); } };
  }

  /**
   * OpenSSH's SFTP server there on the FIFOs, as here (engine/guest/fileserver.ts);
   * it is the channel's: it ends when the channel closes (the run's end, or
   * its connection's).
   */
  async serveFiles(_host: string, dir: string): Promise<() => void> {
    const script = `exec 3<>"$1/share.out" 4<>"$1/share.in"; ${SFTP_SERVER} -l QUIET <&3 >&4 & trap 'kill $! 2>/dev/null' EXIT; cat >/dev/null`;
    const channel = await this.connection.start(this.asRoot(['sh', '-c', script, 'sh', dir]));
    channel.on('error', () => undefined);
    return () => { channel.end(); };
  }

  /** A Unix socket here, at local, each connection to which is socat to path there over a channel of the run's connection. */
  async reach(path: string, local: string): Promise<Reached> {
    rmSync(local, { force: true });
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      this.connection.start(this.asRoot(['socat', '-', `UNIX-CONNECT:${path}`])).then((channel) => {
        channel.on('error', () => undefined);
        socket.pipe(channel).pipe(socket);
        channel.on('close', () => socket.destroy());
        socket.on('close', () => channel.end());
      }, () => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(local, resolve));
    return { path: local, close: () => { server.close(); rmSync(local, { force: true }); } };
  }
}

// A minimal QMP client (QEMU Machine Protocol: JSON lines over a unix socket).
import { connect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';

export interface QmpEvent { event: string; data?: Record<string, unknown> }

export class QmpClient extends EventEmitter {
  private socket!: Socket;
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  /** Connect, wait for the greeting and leave capabilities negotiation mode. */
  static async open(path: string): Promise<QmpClient> {
    const client = new QmpClient();
    await new Promise<void>((resolve, reject) => {
      client.socket = connect(path);
      client.socket.setEncoding('utf8');
      let greeted = false;
      const early = () => { if (!greeted) reject(new Error('QEMU closed its QMP socket before greeting')); };
      client.socket.once('error', reject);
      client.socket.once('close', early);
      client.socket.on('data', (chunk: string) => {
        if (!greeted && chunk.includes('"QMP"')) {
          greeted = true;
          client.socket.off('error', reject);
          resolve();
        }
        client.onData(chunk);
      });
    });
    client.socket.on('error', () => client.failAll(new Error('QMP connection lost')));
    client.socket.on('close', () => client.failAll(new Error('QEMU exited')));
    await client.execute('qmp_capabilities');
    return client;
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // (QEMU has stopped: a command would wait for ever, and what waits for it, e.g. a NIC's unplug, with it)
      if (this.socket.destroyed) return reject(new Error(`QMP ${command}: QEMU has stopped`));
      this.pending.set(id, { resolve, reject });
      this.socket.write(JSON.stringify({ execute: command, arguments: args, id }) + '\n');
    });
  }

  close(): void {
    this.socket.destroy();
    this.failAll(new Error('QEMU has stopped'));
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as { id?: number; return?: unknown; error?: { desc: string }; event?: string };
      if (msg.event) this.emit('event', msg as QmpEvent);
      if (msg.id === undefined) continue;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.desc));
      else p?.resolve(msg.return);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

// The machine's end of mnkvm-agent (guest/mnkvm-agent.c): one request line
// at a time over the virtio port mnkvm.ctl, whose QEMU chardev is a pipe on
// the FIFOs ctl.in (to the guest) and ctl.out (from the guest). A pipe, not
// a socket, because a virtio port whose socket has no client reads as EOF in
// the guest: the agent saved in a template would spin.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** Two-way line traffic with a guest's agent: lines written go to the guest, its answers come on input. */
export interface AgentLink { input: Readable; write(line: string): void; close(): void }

/** The link over the FIFOs here, both ends opened read-write: opening never blocks, and QEMU's end never sees EOF. */
export function fifoLink(fifo: string): AgentLink {
  const toGuest = openSync(`${fifo}.in`, constants.O_RDWR);
  const input = new Socket({ fd: openSync(`${fifo}.out`, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
  input.on('error', () => undefined);   // closed with its VM
  return {
    input,
    write: (line) => { writeSync(toGuest, line); },
    close: () => { input.destroy(); closeSync(toGuest); },
  };
}

export class GuestAgent {
  private buffer = '';
  private answer: ((line: string) => void) | null = null;
  /** Fails the request waiting for its answer (its VM stopped). */
  private fail: ((e: Error) => void) | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private broken: string | null = null;

  constructor(private readonly link: AgentLink) {
    link.input.setEncoding('utf8');
    link.input.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.answer?.(line);
      }
    });
  }

  /** Send one request; resolves on "ok", rejects with the agent's reason or after timeoutMs. */
  request(line: string, timeoutMs: number): Promise<void> {
    const send = () => new Promise<void>((resolve, reject) => {
      if (this.broken) return reject(new Error(this.broken));
      const timer = setTimeout(() => {
        // A late answer would be read as the next request's: no more requests.
        this.broken = `the guest agent did not answer '${line.split(' ')[0]}' within ${timeoutMs / 1000} s`;
        this.answer = this.fail = null;
        reject(new Error(this.broken));
      }, timeoutMs);
      this.answer = (reply) => {
        clearTimeout(timer);
        this.answer = this.fail = null;
        if (reply === 'ok') resolve();
        else reject(new Error(reply.replace(/^error /, '')));
      };
      this.fail = (e) => {
        clearTimeout(timer);
        this.answer = this.fail = null;
        reject(e);
      };
      this.link.write(line + '\n');
    });
    const result = this.queue.then(send, send);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Close the link; a request waiting for its answer fails at once, not after its timeout (what waits for it would wait as long). */
  close(): void {
    this.broken = 'the guest has stopped';
    this.fail?.(new Error(this.broken));
    this.link.close();
  }
}

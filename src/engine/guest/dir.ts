// A guest's runtime folder, as every backend lays it out for the same
// guest: the FIFOs of its agent's and shared folder's ports, and its serial
// console (whether its init said it is ready, and its last lines).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk, type Runner } from '../proc.js';

/** A new runtime folder with the FIFO pairs of QEMU's pipe chardevs: the agent's port, and the shared folder's (made by on: here, or on a server). */
export async function makeGuestDir(dir: string, share: boolean, on: Runner = run): Promise<void> {
  const fifos = ['ctl', ...(share ? ['share'] : [])].flatMap((f) => [`${f}.in`, `${f}.out`]);
  await runOk('sh', ['-c', 'rm -rf "$1" && mkdir -p "$1" && cd "$1" && shift && mkfifo "$@"', 'sh', dir, ...fifos], undefined, on);
}

/** The guest's serial console, as a file in its runtime folder. */
export const serialLog = (dir: string): string => join(dir, 'serial.log');

/** Wait (at most timeoutMs) until the guest's init says it is ready on its serial console; false if it did not, or alive() turned false. */
export async function waitSerialReady(dir: string, timeoutMs: number, alive: () => boolean): Promise<boolean> {
  const serial = serialLog(dir);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    if (existsSync(serial) && readFileSync(serial, 'utf8').includes('mnkvm-guest: ready')) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** The last lines of files (the serial console, then the VMM's own log), for error messages. */
export function lastLines(files: string[], lines: number): string[] {
  const text = files.map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('');
  return text.replace(/\r/g, '').split('\n').filter((l) => l.trim()).slice(-lines);
}

// Who owns a run record: the process that made it, named by (pid, start
// time) with its command line, in the record's owner.json. A run whose owner
// is gone has ended (its record is swept; its claims are stale).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isAlive, processId, type ProcessId } from './proc.js';

type Owner = ProcessId & { argv?: string[] };

/** Write this process as the owner of the record folder dir. */
export function writeOwner(dir: string): void {
  writeFileSync(join(dir, 'owner.json'), JSON.stringify({ ...processId(process.pid), argv: process.argv }) + '\n');
}

/** The owner of the record folder dir, or null when it names none. */
export function ownerOf(dir: string): Owner | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as Owner;
  } catch {
    return null;
  }
}

export function ownerAlive(dir: string): boolean {
  const owner = ownerOf(dir);
  return owner !== null && isAlive(owner);
}

/** "pid 1234: mnkvm --topo single,2", for messages about another run. */
export function describeOwner(dir: string): string {
  const owner = ownerOf(dir);
  if (!owner) return basename(dir);
  const [script = '?', ...args] = (owner.argv ?? []).slice(1);
  const command = /(^|\/)(mnkvm|main\.js)$/.test(script) ? 'mnkvm' : basename(script);
  return `pid ${owner.pid}: ${[command, ...args].join(' ')}`;
}

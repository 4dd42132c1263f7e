// ansible/'s playbooks run as an operator runs them, against the virtual
// testbed's servers (test/testbed.test.ts, test/scale/servers.test.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/engine/paths.js';
import { bound } from './speed.js';

export const ANSIBLE = join(PROJECT_ROOT, 'ansible');

/** ansible-playbook of ansible/ against inventory. */
export function ansiblePlaybook(inventory: string, book: string, ...extra: string[]) {
  return spawnSync('ansible-playbook', ['-i', inventory, book, ...extra],
    { cwd: ANSIBLE, encoding: 'utf8', env: { ...process.env, ANSIBLE_FORCE_COLOR: '0', ANSIBLE_NOCOLOR: '1' }, timeout: bound(30 * 60_000) });
}

/** A passed playbook run: its PLAY RECAP's counts per host, and its whole output. */
export type Played = Record<string, Record<string, number>> & { output: string };

/** Run a playbook that must pass. */
export function playbook(inventory: string, book: string, ...extra: string[]): Played {
  const r = ansiblePlaybook(inventory, book, ...extra);
  const recap = r.stdout.slice(r.stdout.lastIndexOf('PLAY RECAP'));
  const hosts: Record<string, Record<string, number>> = {};
  for (const [, host, counts] of recap.matchAll(/^(\S+)\s+:\s+(.*)$/gm)) {
    hosts[host] = Object.fromEntries([...counts.matchAll(/(\w+)=(\d+)/g)].map(([, k, v]) => [k, Number(v)]));
  }
  if (r.status !== 0) throw new Error(`ansible-playbook ${book} failed (${r.status}):\n${r.stdout.slice(-4000)}\n${r.stderr}`);
  return Object.assign(hosts, { output: r.stdout });
}

// KVM hosts as snapshot clones: identity after restore, cold boot, fallback,
// templates made once (also by two runs at once) and removed when stale.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectClean, mnkvm, SCRIPTS, TEST_ENV } from './helpers.js';

interface Identity { host: string; restored: boolean; hostname: string; mac: string; mininetMac: string; random: string; clockError: number }

async function identities(hostSpec: string, env: NodeJS.ProcessEnv = TEST_ENV): Promise<{ ids: Identity[]; err: string }> {
  const r = await mnkvm(['run', join(SCRIPTS, 'identity.py'), '--host', hostSpec, '--switch', 'lxbr'], { env });
  expect(r.code, r.out + r.err).to.equal(0);
  expect(r.out).to.match(/^DROPPED 0\.0$/m);
  const ids = [...r.out.matchAll(/^IDENTITY (.*)$/gm)].map((m) => JSON.parse(m[1]) as Identity);
  expect(ids).to.have.length(2);
  return { ids, err: r.err };
}

describe('KVM hosts as snapshot clones', function () {
  let templates: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    templates = mkdtempSync('/dev/shm/mnkvm-test-templates-');
    env = { ...TEST_ENV, MNKVM_TEMPLATES: templates };
  });
  afterEach(async () => {
    rmSync(templates, { recursive: true, force: true });
    await expectClean();
  });

  it('clones of one template differ in hostname, MACs and randomness, and keep time', async () => {
    const { ids } = await identities('kvm', env);
    for (const id of ids) {
      expect(id.restored, id.host).to.equal(true);
      expect(id.hostname).to.equal(id.host);
      expect(id.mac).to.equal(id.mininetMac);
      expect(id.clockError).to.be.below(2);
    }
    expect(ids[0].mac).to.not.equal(ids[1].mac);
    expect(ids[0].random).to.not.equal(ids[1].random);
    expect(readdirSync(templates)).to.have.length(1);
  });

  it('boot=cold boots every guest', async () => {
    const { ids } = await identities('kvm,boot=cold', env);
    expect(ids.map((i) => i.restored)).to.deep.equal([false, false]);
    expect(ids.map((i) => i.hostname)).to.deep.equal(['h1', 'h2']);
    expect(readdirSync(templates)).to.have.length(0);
  });

  it('falls back to cold boot, saying why in one line, where templates cannot be made', async () => {
    const { ids, err } = await identities('kvm', { ...env, MNKVM_TEMPLATES: '/dev/null/templates' });
    expect(ids.map((i) => i.restored)).to.deep.equal([false, false]);
    expect(err.match(/snapshot clones unavailable/g)).to.have.length(1);
    expect(err).to.match(/^\*\*\* mnkvm: snapshot clones unavailable \(.*\): KVM hosts boot cold$/m);
  });

  it('makes one template for two runs at once, a new one when an input changes; mnkvm -c removes stale ones', async () => {
    const run = (name: string) => mnkvm(['run', join(SCRIPTS, 'onehost.py'), '--host', 'kvm', '--', name], { env });
    const both = await Promise.all([run('ha'), run('hb')]);
    for (const [i, r] of both.entries()) {
      expect(r.code, r.out + r.err).to.equal(0);
      expect(r.out).to.match(new RegExp(`^RESTORED h${'ab'[i]} h${'ab'[i]} True$`, 'm'));
    }
    expect(readdirSync(templates)).to.have.length(1);
    const first = readdirSync(templates)[0];

    const other = await mnkvm(['--topo', 'single,1', '--host', 'kvm,mem=288', '--test', 'none'], { env });
    expect(other.code, other.err).to.equal(0);
    expect(readdirSync(templates)).to.have.length(2);

    // A template whose image is gone, and a half-built one whose run ended.
    mkdirSync(join(templates, 'stale'));
    writeFileSync(join(templates, 'stale', 'manifest.json'), JSON.stringify({ key: 'stale', image: '/nonexistent', imageKey: 'x', qemu: 'x', accel: 'tcg' }));
    mkdirSync(join(templates, '.build-999999999-abc'));
    // One of an earlier template format (its key is made no more): same image and QEMU, no format.
    const { format: _, ...older } = JSON.parse(readFileSync(join(templates, first, 'manifest.json'), 'utf8')) as { format: number };
    mkdirSync(join(templates, 'older'));
    writeFileSync(join(templates, 'older', 'manifest.json'), JSON.stringify(older));
    const clean = await mnkvm(['-c'], { env });
    expect(clean.code).to.equal(0);
    expect(clean.out).to.match(/removed stale snapshot template stale/);
    expect(clean.out).to.match(/removed stale snapshot template older/);
    expect(readdirSync(templates).sort()).to.have.length(2).and.include(first);   // current ones stay
    expect(existsSync(join(templates, '.build-999999999-abc'))).to.equal(false);
  });
});

// The image cache's one protocol (guest/cache.sh) run on a scratch folder
// with a dummy build step, and the image-name rule it defines, as mnkvm's
// TypeScript asks it.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestCache, imageNameOf, imageNameProblem } from '../../src/engine/image.js';
import { GUEST_CACHE } from '../../src/engine/paths.js';

/** A build as guest/'s scripts make one: DIR NAME KEY [sleep], each real build noted in DIR/builds. */
const BUILD = `set -euo pipefail
. "$0"
cache_open "$1" "$2" "$3"
if cache_built; then cache_point; echo "up to date: $cache_out"; exit 0; fi
cache_work .build
echo "$2" >> "$1/builds"
sleep "\${4:-0}"
echo '{}' > "$cache_work/manifest.json"
cache_commit "$cache_work"
echo "built: $cache_out"`;

/** Run script (bash, with guest/cache.sh as $0) with args; its code (124: stuck 10 s) and output. */
function bash(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('timeout', ['10', 'bash', '-c', script, GUEST_CACHE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('guest image cache (guest/cache.sh)', function () {
  this.timeout(20_000);   // (a bash each step: seconds on a busy machine)
  let dir: string;
  const KEY1 = '0123456789abcdef';
  const KEY2 = 'fedcba9876543210';
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'mnkvm-cache-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('builds a key once, two builds at once: the second waits for the lock, then finds it built', async () => {
    const [a, b] = await Promise.all([bash(BUILD, [dir, 'web', KEY1, '0.5']), bash(BUILD, [dir, 'web', KEY1, '0.5'])]);
    expect([a.code, b.code]).to.deep.equal([0, 0]);
    expect([a.out, b.out].sort()).to.deep.equal([`built: ${dir}/web-${KEY1}\n`, `up to date: ${dir}/web-${KEY1}\n`]);
    expect(readFileSync(join(dir, 'builds'), 'utf8')).to.equal('web\n');
    expect(readlinkSync(join(dir, 'web'))).to.equal(`web-${KEY1}`);
    expect(readdirSync(dir).sort()).to.deep.equal(['.lock', 'builds', 'web', `web-${KEY1}`]);
  });

  it("points the name at the newest, drops the name's older versions (not another name's), and removes a name", async () => {
    for (const [name, key] of [['web', KEY1], ['web-1', KEY1], ['web', KEY2]]) expect((await bash(BUILD, [dir, name, key])).code).to.equal(0);
    expect(readlinkSync(join(dir, 'web'))).to.equal(`web-${KEY2}`);
    expect(readdirSync(dir).sort()).to.deep.equal(['.lock', 'builds', 'web', 'web-1', `web-1-${KEY1}`, `web-${KEY2}`]);
    expect(guestCache('cache_remove', [dir, 'web']).status).to.equal(0);
    expect(readdirSync(dir).sort()).to.deep.equal(['.lock', 'builds', 'web-1', `web-1-${KEY1}`]);
  });

  it('passes its lock on to a build it runs (build-debian-image.sh runs import-image.sh), and leaves nothing of a failed build', async () => {
    const outer = '. "$0"; set -e; cache_open "$1" deb "$2"; cache_work .debian; bash -c "$3" "$0" "$1" deb "$2"';
    const r = await bash(outer, [dir, KEY1, BUILD]);
    expect(r, r.out).to.deep.include({ code: 0, out: `built: ${dir}/deb-${KEY1}\n` });
    const failed = await bash('. "$0"; set -e; cache_open "$1" bad "$2"; cache_work .import; touch "$cache_work/half"; false', [dir, KEY1]);
    expect(failed.code).to.equal(1);
    expect(readdirSync(dir).sort()).to.deep.equal(['.lock', 'builds', 'deb', `deb-${KEY1}`]);
    expect(existsSync(join(dir, `bad-${KEY1}`))).to.equal(false);
  });

  it("has one image-name rule, which TypeScript's names keep", () => {
    for (const name of ['web', 'test-debian', 'a.b_c-1', '0day']) expect(imageNameProblem(name), name).to.equal(null);
    expect(imageNameProblem('Bad Name')).to.equal("image name 'Bad Name': use lower-case letters, digits, '.', '_' and '-'");
    expect(imageNameProblem('default')).to.equal("'default' is the built-in image's name: give another");
    for (const name of ['', '.lock', '..', 'a/b', '-x', '_x', 'Web']) expect(imageNameProblem(name), name).to.be.a('string');
    const made = ['ubuntu:trusty', 'Library/Nginx:1.25', '__x', '...', 'registry.io:5000/a/b@sha256:ab'].map(imageNameOf);
    expect(made[0]).to.equal('ubuntu-trusty');
    for (const name of made) expect(imageNameProblem(name), name).to.equal(null);
  });
});

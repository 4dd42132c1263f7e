// The README and docs/ kept real: every mnkvm command line their code blocks
// show uses only the subcommands and options `mnkvm --help` lists, and every
// link between the pages points at a page (and a heading) that exists, and
// the README's test command is the one CI runs. `--help` starts no network:
// a few seconds in all, the helps asked for in parallel.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../../src/engine/paths.js';
import { CLI } from '../helpers.js';

const PAGES = ['README.md', ...readdirSync(join(PROJECT_ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => join('docs', f))];
const read = (page: string): string => readFileSync(join(PROJECT_ROOT, page), 'utf8');

/** A page's lines outside fenced code blocks, and the lines of its shell blocks (no language, sh, bash, console). */
function split(text: string): { prose: string[]; shell: string[] } {
  const prose: string[] = [], shell: string[] = [];
  let fence: string | null = null;
  for (const line of text.split('\n')) {
    const open = /^\s*```(\w*)/.exec(line);
    if (open) {
      fence = fence === null ? open[1] : null;
      continue;
    }
    if (fence === null) prose.push(line);
    else if (['', 'sh', 'bash', 'console', 'shell'].includes(fence)) shell.push(line);
  }
  return { prose, shell };
}

/** The mnkvm command lines in shell lines: each command of a `&&`, `;`, `|` chain, without comment, env assignments or redirections. */
function mnkvmCommands(lines: string[]): string[][] {
  const commands: string[][] = [];
  for (const line of lines) {
    for (const part of line.replace(/(^|\s)#.*$/, '').split(/&&|;|\|/)) {
      const words = part.replace(/[()]/g, ' ').trim().split(/\s+/).filter((w) => w !== '');
      while (words.length > 0 && /^[A-Z_]+=/.test(words[0])) words.shift();
      if (words[0] !== 'mnkvm') continue;
      const redirect = words.findIndex((w) => /^\d*[<>]/.test(w));
      commands.push(words.slice(1, redirect < 0 ? undefined : redirect));
    }
  }
  return commands;
}

const helpTexts = new Map<string, string>();
/** `mnkvm ...path --help` (commander exits 1 after help for some subcommands: stdout is what counts). */
function help(path: string[]): string {
  const key = path.join(' ');
  if (!helpTexts.has(key)) {
    const r = spawnSync(process.execPath, [CLI, ...path, '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout, `mnkvm ${key} --help: ${r.stderr}`).to.match(/Usage: mnkvm/);
    helpTexts.set(key, r.stdout);
  }
  return helpTexts.get(key)!;
}

/** Asks for several helps at once (each is a node process, some a Python one too: in turn they take seconds). */
async function prefetch(paths: string[][]): Promise<void> {
  await Promise.all(paths.filter((path) => !helpTexts.has(path.join(' '))).map((path) => new Promise<void>((done) => {
    execFile(process.execPath, [CLI, ...path, '--help'], { encoding: 'utf8', timeout: 60_000 }, (_error, stdout) => {
      if (/Usage: mnkvm/.test(stdout)) helpTexts.set(path.join(' '), stdout);
      done();
    });
  })));
}

/** The options a help text's option lists define (optparse's `-i IPBASE, --ipbase=IPBASE`, commander's `--hosts <list>`). */
function listedOptions(text: string): Set<string> {
  const options = new Set<string>();
  for (const line of text.split('\n')) {
    const column = /^ {2}(-\S.*?)(?: {2,}|$)/.exec(line);
    for (const spec of column ? column[1].split(', ') : []) {
      const name = /^--?[A-Za-z][\w-]*/.exec(spec);
      if (name) options.add(name[0]);
    }
  }
  return options;
}

/** What `mnkvm --help` offers at the top: subcommands, options (mnkvm's own lines and mn's), KVM host and SR-IOV link keys. */
function topLevel() {
  const text = help([]);
  const [own] = text.split("mn's options:");
  const subcommands = new Set([...text.matchAll(/^(?:Usage:)?\s*mnkvm ([a-z]+)\b/gm)].map((m) => m[1]));
  const options = listedOptions(text);
  for (const line of own.split('\n').filter((l) => !l.includes('mnkvm '))) {
    for (const m of line.matchAll(/(?<![\w-])--[a-z][\w-]*/g)) options.add(m[0]);
  }
  const keys = (label: string) => new Set([...(new RegExp(`^${label}: (.*)$`, 'm').exec(own)?.[1] ?? '').matchAll(/\[,(\w+)=/g)].map((m) => m[1]));
  return { subcommands, options, kvm: keys('KVM host options'), sriov: keys('SR-IOV link options') };
}

/** What is wrong with one command line (its words after `mnkvm`), in one line each. */
function problems(words: string[], top: ReturnType<typeof topLevel>): string[] {
  const found: string[] = [];
  const path: string[] = [];
  let rest = words;
  if (top.subcommands.has(rest[0])) {
    path.push(rest[0]);
    rest = rest.slice(1);
    const commands = /\nCommands:\n([\s\S]*?)(?:\n\n|$)/.exec(help(path))?.[1];
    if (commands !== undefined && rest.length > 0 && !rest[0].startsWith('-')) {
      const names = new Set([...commands.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]));
      if (!names.has(rest[0])) return [`mnkvm ${path[0]} has no subcommand ${rest[0]}`];
      path.push(rest[0]);
      rest = rest.slice(1);
    }
  }
  const options = path.length === 0 ? top.options : listedOptions(help(path));
  const end = rest.indexOf('--');
  const own = end < 0 ? rest : rest.slice(0, end);
  own.forEach((word, i) => {
    if (!word.startsWith('-')) return;
    const [name, inline] = word.split(/=(.*)/s);
    if (!options.has(name)) found.push(`mnkvm ${[...path, ''].join(' ')}has no option ${name}`);
    const value = inline ?? own[i + 1] ?? '';
    const [kind, ...params] = value.split(',');
    const keys = name === '--host' && kind === 'kvm' ? top.kvm : name === '--link' && kind === 'sriov' ? top.sriov : null;
    for (const key of keys ? params.map((p) => p.split('=')[0]) : []) {
      if (!keys!.has(key)) found.push(`${name} ${kind} has no option ${key}`);
    }
  });
  return found;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchor = (heading: string): string => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');

function anchors(page: string): Set<string> {
  const seen = new Map<string, number>();
  const all = new Set<string>();
  for (const line of split(read(page)).prose) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = anchor(heading[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    all.add(n === 0 ? base : `${base}-${n}`);
  }
  return all;
}

describe('README and docs/ (kept real)', function () {
  this.timeout(120_000);

  it('show only subcommands and options that mnkvm --help lists', async () => {
    const commands = PAGES.flatMap((page) => mnkvmCommands(split(read(page)).shell).map((words) => ({ page, words })));
    await prefetch([[]]);
    const top = topLevel();
    await prefetch([...top.subcommands].map((sub) => [sub]));
    const nested = ({ words }: { words: string[] }) => top.subcommands.has(words[0]) && help([words[0]]).includes('\nCommands:\n') && /^[a-z]/.test(words[1] ?? '');
    await prefetch(commands.filter(nested).map(({ words }) => words.slice(0, 2)));
    expect([...top.subcommands]).to.include.members(['run', 'image', 'bench', 'testbed']);
    expect([...top.options]).to.include.members(['--topo', '--host', '-c', '--servers', '--placement']);
    expect([...top.kvm]).to.include.members(['mem', 'backend']);
    expect([...top.sriov]).to.include.members(['pf', 'vlan']);
    // the check itself finds what is wrong
    expect(problems(['--topo', 'single,2', '--hots', 'kvm,memory=256'], top)).to.deep.equal(['mnkvm has no option --hots']);
    expect(problems(['--host=kvm,memory=256', '--link', 'sriov,vf=3'], top)).to.deep.equal(['--host kvm has no option memory', '--link sriov has no option vf']);
    expect(problems(['image', 'create'], top)).to.deep.equal(['mnkvm image has no subcommand create']);
    expect(problems(['bench', 'latency', '--rate', '10', '--speed', '3'], top)).to.deep.equal(['mnkvm bench latency has no option --speed']);

    const wrong = commands.flatMap(({ page, words }) => problems(words, top).map((problem) => `${page}: mnkvm ${words.join(' ')}: ${problem}`));
    expect(wrong).to.deep.equal([]);
    expect(commands.length).to.be.greaterThan(30);
  });

  it("give the test command that CI runs (.ci/run)", () => {
    const testCommands = split(read('README.md')).shell.filter((line) => /\bnpm test\b/.test(line));
    expect(testCommands).to.have.length(1);
    expect(read(join('.ci', 'run')).split('\n')).to.include(testCommands[0]);
  });

  it('link only to pages and headings that exist', () => {
    const wrong: string[] = [];
    for (const page of PAGES) {
      for (const line of split(read(page)).prose) {
        for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          if (/^[a-z]+:/.test(target)) continue;
          const [file, hash] = target.split('#');
          const path = file === '' ? page : relative(PROJECT_ROOT, join(PROJECT_ROOT, dirname(page), file));
          if (!existsSync(join(PROJECT_ROOT, path))) wrong.push(`${page}: ${target}: no ${path}`);
          else if (hash !== undefined && path.endsWith('.md') && !anchors(path).has(hash)) wrong.push(`${page}: ${target}: no such heading in ${path}`);
        }
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('are where the code says they are (docs/*.md named in sources, messages and comments)', () => {
    const files: string[] = ['README.md', 'setup.sh', 'package.json', join('.ci', 'run')];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(join(PROJECT_ROOT, dir), { withFileTypes: true })) {
        if (['node_modules', '__pycache__'].includes(entry.name)) continue;
        if (entry.isDirectory()) walk(join(dir, entry.name));
        else if (entry.isFile()) files.push(join(dir, entry.name));
      }
    };
    for (const dir of ['src', 'mininet-ext', 'guest', 'ansible', 'test', 'examples', 'docs']) walk(dir);
    const wrong: string[] = [];
    for (const file of files) {
      for (const [page] of read(file).matchAll(/\bdocs\/[\w-]+\.md\b/g)) {
        if (!existsSync(join(PROJECT_ROOT, page))) wrong.push(`${file}: ${page}`);
      }
    }
    expect(files.length).to.be.greaterThan(50);
    expect(wrong).to.deep.equal([]);
  });
});

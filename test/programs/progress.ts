// Mininet's log as progress events through the bridge, set up as a network's build sets it up
// (mnkvm.api's showProgress, the API's MininetLog), without a network or the engine: Mininet's
// info and output pieces, and a notice as kvmhost.say says it. test/unit/api.test.ts runs it in a
// process of its own (pythonia, once ended, does not start again in a process); it prints the
// events as JSON.
import { Listeners, MininetLog } from '../../src/api/listeners.js';
import type { ProgressEvent } from '../../src/api/progress.js';
import { MININET_EXT } from '../../src/engine/paths.js';

interface Pythonia { python: ((module: string) => Promise<unknown>) & { exit(): void } }
interface Modules {
  sys: { path: { insert(i: number, path: string): Promise<void> } };
  api: { showProgress(listener: MininetLog, level: string): Promise<void> };
  log: { info(text: string): Promise<void>; output(text: string): Promise<void>; debug(text: string): Promise<void> };
  kvmhost: { say(notices: { level: string; line: string }[]): Promise<void> };
}

process.env.PYTHON_BIN ??= '/usr/bin/python3';
const pythonia = (await import('pythonia')).default as unknown as Pythonia;
try {
  const sys = await pythonia.python('sys') as Modules['sys'];
  await sys.path.insert(0, MININET_EXT);
  const api = await pythonia.python('mnkvm.api') as Modules['api'];
  const log = await pythonia.python('mininet.log') as Modules['log'];
  const kvmhost = await pythonia.python('mnkvm.kvmhost') as Modules['kvmhost'];
  const events: ProgressEvent[] = [];
  const listeners = new Listeners();
  listeners.listeners.add((e) => events.push(e));
  await api.showProgress(new MininetLog(listeners), 'error');
  await log.info('*** Adding hosts:\n');
  await log.output('h1 ');
  await log.debug('not an event\n');
  await kvmhost.say([{ level: 'warn', line: '*** mnkvm: a notice' }]);
  console.log(JSON.stringify(events));
} finally {
  pythonia.python.exit();
}

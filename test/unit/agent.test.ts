// The machine's end of the guest agent's line protocol, over a link whose
// guest end is this test: answers, errors, and a request whose VM stops
// before it answers (the real guest's agent: every KVM host test).
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { GuestAgent, type AgentLink } from '../../src/engine/guest/agent.js';

/** A link whose guest end is the test: what was sent, and a way to answer. */
function testLink(): AgentLink & { sent: string[]; reply(line: string): void; closed: boolean } {
  const input = new PassThrough();
  const link = {
    input, sent: [] as string[], closed: false,
    write: (line: string) => { link.sent.push(line); },
    close: () => { link.closed = true; input.destroy(); },
    reply: (line: string) => { input.write(`${line}\n`); },
  };
  return link;
}

describe('guest agent (the machine\'s end)', () => {
  it('sends one request at a time and takes ok and error answers', async () => {
    const link = testLink();
    const agent = new GuestAgent(link);
    const first = agent.request('nic 52:54:00:00:00:01 h1-eth0 00:00:00:00:00:01', 5000);
    const second = agent.request('unplug h1-eth0', 5000);
    await new Promise((r) => setImmediate(r));
    expect(link.sent).to.deep.equal(['nic 52:54:00:00:00:01 h1-eth0 00:00:00:00:00:01\n']);
    link.reply('ok');
    await first;
    await new Promise((r) => setImmediate(r));
    expect(link.sent).to.have.length(2);
    link.reply('error no interface h1-eth0');
    await second.then(() => expect.fail('no error'), (e: Error) => expect(e.message).to.equal('no interface h1-eth0'));
  });

  it('fails a request waiting for its answer at once when its VM stops, and every request after', async () => {
    const link = testLink();
    const agent = new GuestAgent(link);
    // (a timeout far beyond the test's: only close() can end it in time)
    const waiting = agent.request('unplug d3-eth0', 3_600_000);
    await new Promise((r) => setImmediate(r));
    agent.close();
    await waiting.then(() => expect.fail('no error'), (e: Error) => expect(e.message).to.equal('the guest has stopped'));
    expect(link.closed).to.equal(true);
    await agent.request('unplug d3-eth1', 5000).then(() => expect.fail('no error'), (e: Error) => expect(e.message).to.equal('the guest has stopped'));
  });
});

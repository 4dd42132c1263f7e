// `mnkvm testbed ...`: the virtual SR-IOV testbed (testbed.ts).
import { Command } from 'commander';
import { requireRoot } from '../bridge/session.js';
import { describedInventory, renderInventory } from './inventory.js';
import { flag, TESTBED_OPTIONS, testbedDown, testbedInventory, testbedOptions, testbedSsh, testbedStatus, testbedUp } from './testbed.js';

export function testbedCommand(): Command {
  const testbed = new Command('testbed').description('a virtual SR-IOV testbed: servers as VMs with emulated SR-IOV NICs (igb) and an IOMMU');
  const up = testbed.command('up').description('start the servers tb1, tb2, ... and wait until each answers SSH');
  for (const [name, rule] of Object.entries(TESTBED_OPTIONS)) {
    up.option(`--${flag(name)} <n>`, `${rule.help} (${rule.least} to ${rule.most})`, String(rule.default));
  }
  up.action(async (opts: Record<string, string>) => {
    requireRoot();
    await testbedUp(testbedOptions(opts), (line) => process.stderr.write(`${line}\n`));
    process.stderr.write('*** testbed: up: `mnkvm testbed inventory > testbed.ini` for Ansible, `mnkvm testbed ssh tb1` to log in\n');
  });
  testbed.command('status').description('the servers, their SSH ports and PFs')
    .action(() => { requireRoot(); process.stdout.write(testbedStatus().join('\n') + '\n'); });
  testbed.command('ssh').description('log in to a server, or run a command there (after --)')
    .argument('<name>', 'tb1, tb2, ...').argument('[command...]', 'the command')
    .action((name: string, command: string[]) => { requireRoot(); process.exitCode = testbedSsh(name, command); });
  testbed.command('inventory').description("an Ansible inventory (INI) of the virtual testbed's servers, or of the real servers a description names")
    .option('--from <file>', 'a description of real servers (YAML: docs/testbed.md)')
    .action((opts: { from?: string }) => {
      if (opts.from) {
        process.stdout.write(renderInventory(describedInventory(opts.from), `servers of ${opts.from} (mnkvm testbed inventory --from)`));
        return;
      }
      requireRoot();
      process.stdout.write(testbedInventory());
    });
  testbed.command('down').description('stop the servers and remove their disks and keys')
    .action(async () => {
      requireRoot();
      const removed = await testbedDown();
      process.stderr.write(`*** testbed: down${removed ? ` (removed ${removed})` : ''}\n`);
    });
  return testbed;
}

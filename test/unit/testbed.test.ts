// The virtual testbed's pure parts: options, cabling, a server's QEMU
// command line, and inventories from a description of real servers.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describedInventory, renderInventory } from '../../src/testbed/inventory.js';
import { pfAddress, serverArgs } from '../../src/testbed/server.js';
import { cables, testbedOptions } from '../../src/testbed/testbed.js';

describe('virtual testbed (no VMs)', function () {
  it('takes its options with bounds, one line for a bad one', () => {
    expect(testbedOptions({})).to.deep.equal({ servers: 2, pfs: 1, vfs: 7, mem: 2048, cpus: 2, sshPort: 2221, bootTimeout: 600 });
    expect(testbedOptions({ servers: '3', vfs: '0' })).to.include({ servers: 3, vfs: 0 });
    expect(() => testbedOptions({ vfs: '8' })).to.throw('testbed --vfs 8: must be a whole number from 0 to 7');
    expect(() => testbedOptions({ sshPort: 'x' })).to.throw('testbed --ssh-port x: must be a whole number from 1024 to 64000');
  });

  it('cables PF p of tb1 to PF p of tb2 (tb3 to tb4), an odd last server to nothing', () => {
    const wiring = cables({ servers: 3, pfs: 2, sshPort: 2221 });
    expect(wiring[0]).to.deep.equal([{ port: 2321, peerPort: 2329 }, { port: 2322, peerPort: 2330 }]);
    expect(wiring[1]).to.deep.equal([{ port: 2329, peerPort: 2321 }, { port: 2330, peerPort: 2322 }]);
    const ports = wiring.flat().map((c) => c.port);
    expect(new Set(ports).size).to.equal(ports.length);
    for (const cable of wiring[2]) expect(ports).not.to.include(cable.peerPort);
  });

  it('gives a server an IOMMU, igb PFs on their cables, SSH on loopback and this checkout', () => {
    const args = serverArgs({ name: 'tb2', dir: '/r', disk: '/d.qcow2', mem: 2048, cpus: 2, accel: 'tcg', sshPort: 2222,
      authorizedKeys: '/k.pub', share: '/src', pfs: [{ port: 2329, peerPort: 2321 }] }, 1);
    const values = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
    expect(values('-device')).to.include('intel-iommu,intremap=on,caching-mode=on');
    expect(values('-device')).to.include('igb,netdev=pf0,bus=pfport0,mac=52:54:00:ac:02:01');
    expect(values('-netdev')).to.include('dgram,id=pf0,local.type=inet,local.host=127.0.0.1,local.port=2329,remote.type=inet,remote.host=127.0.0.1,remote.port=2321');
    expect(values('-netdev')).to.include('user,id=mgmt,hostfwd=tcp:127.0.0.1:2222-:22');
    expect(values('-machine')).to.deep.equal(['q35,kernel-irqchip=split']);
    expect(values('-cpu')).to.deep.equal(['max']);
    expect(values('-fw_cfg')).to.include('name=opt/mnkvm/hostname,string=tb2');
    expect(values('-virtfs')).to.deep.equal(['local,path=/src,mount_tag=mnkvm,security_model=none,readonly=on']);
    expect(pfAddress(0)).to.equal('0000:01:00.0');
  });

  describe('inventory from a description of real servers', function () {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'mnkvm-desc-')); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const describe_ = (text: string) => {
      writeFileSync(join(dir, 'servers.yaml'), text);
      return () => describedInventory(join(dir, 'servers.yaml'));
    };

    it('renders one host line per server, with its PFs, cores and hugepages', () => {
      const inv = describe_([
        'user: lab', 'key: /home/lab/.ssh/id_ed25519', 'servers:',
        '  - name: srv1', '    address: 192.0.2.10', '    iommu: amd', '    measurement_cores: [2, 3]', '    hugepages: 512',
        '    pfs:', '      - { pci: "0000:03:00.0", vfs: 4 }',
        '  - { name: srv2, address: 192.0.2.11, pfs: [] }', '',
      ].join('\n'))();
      const text = renderInventory(inv, 'x');
      expect(text).to.contain(`srv1 ansible_host=192.0.2.10 ansible_port=22 sriov_pfs='[{"pci":"0000:03:00.0","vfs":4}]' kernel_iommu=amd kernel_isolated_cores='[2,3]' kernel_hugepages=512\n`);
      expect(text).to.contain("srv2 ansible_host=192.0.2.11 ansible_port=22 sriov_pfs='[]' kernel_iommu=auto kernel_isolated_cores='[]' kernel_hugepages=0\n");
      expect(text).to.contain('ansible_user=lab\nansible_ssh_private_key_file=/home/lab/.ssh/id_ed25519\n');
    });

    it('says in one line what is wrong', () => {
      expect(() => describedInventory(join(dir, 'none.yaml'))).to.throw(/none\.yaml not found: give a description of the servers/);
      expect(describe_('servers: []\n')).to.throw(/servers\.yaml: no servers: list them under servers: \(docs\/testbed\.md shows the format\)$/);
      expect(describe_('servers:\n  - { name: a, address: x, pfs: [ { pci: 03:00.0, vfs: 2 } ] }\n'))
        .to.throw(/server 1 \(a\): PF 180 \(YAML read an address without quotes as a number\) is no PCI address: write it as "0000:03:00\.0" \(lspci -D\), in quotes/);
      expect(describe_('servers:\n  - { name: a, address: x, pfs: [ { pci: "03:00.0", vfs: 2 } ] }\n'))
        .to.throw(/server 1 \(a\): PF 03:00\.0 is no PCI address/);
      expect(describe_('servers:\n  - { name: a, pfs: [] }\n')).to.throw(/server 1 \(a\): an address is missing/);
      expect(describe_('servers:\n  - { name: a, address: x, pfs: [] }\n  - { name: a, address: y, pfs: [] }\n')).to.throw(/two servers are named a/);
      expect(describe_('servers: [\n')).to.throw(/servers\.yaml: not YAML/);
    });
  });
});

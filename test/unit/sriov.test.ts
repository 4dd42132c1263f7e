// The VF pool's view of SR-IOV NICs, on sysfs fixture trees laid out as the
// kernel lays them out, for drivers neither this machine nor the virtual
// testbed has: igb (the testbed's, for reference), ixgbe, i40e/iavf (a MAC
// the VF takes late), mlx5 in switchdev mode (representors); and the policy
// of links between servers, against servers that answer as told. No VMs, no
// device is touched: milliseconds. The real path runs in test/sriov.test.ts
// (between servers: test/testbed.test.ts).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect } from 'chai';
import { RunRecord } from '../../src/engine/records.js';
import { sriovLinkOptions, sriovLinkSyntax } from '../../src/engine/options.js';
import { VfPool, netdevTakesMac } from '../../src/sriov/pool.js';
import { candidates, parsePfName, select } from '../../src/sriov/selectors.js';
import { findPf, listPfs, listVfs, representor, type SysRoots } from '../../src/sriov/sysfs.js';
import { SriovAcrossServers } from '../../src/sriov/across.js';
import type { ServerFabricRequest } from '../../src/engine/calls.js';
import { MnkvmError } from '../../src/engine/errors.js';
import type { SriovEnd, SriovLinkMade } from '../../src/engine/links.js';

interface VfFixture { pci: string; driver: string | null; group: string | null; netdev?: string; mac?: string }
interface NicFixture {
  pf: string; pci: string; driver: string; vendor: string; device: string; vfDevice: string;
  totalVfs: number; vfs: VfFixture[]; switchId?: string;
}

/** A machine's sysfs with these NICs, as the kernel lays it out (devices, bus, class links). */
function machine(root: string, nics: NicFixture[], modules: string[] = ['vfio_pci', 'vfio_iommu_type1']): SysRoots {
  const sys = join(root, 'sys');
  const dev = join(root, 'dev');
  const devices = join(sys, 'devices/pci0000:00');
  for (const dir of ['bus/pci/devices', 'class/net', 'kernel/iommu_groups']) mkdirSync(join(sys, dir), { recursive: true });
  mkdirSync(join(dev, 'vfio'), { recursive: true });
  for (const m of modules) mkdirSync(join(sys, 'module', m), { recursive: true });
  const pciDevice = (pci: string, driver: string | null, vendor: string, device: string, group: string | null) => {
    const dir = join(devices, pci);
    mkdirSync(dir, { recursive: true });
    symlinkSync(join('../../../devices/pci0000:00', pci), join(sys, 'bus/pci/devices', pci));
    writeFileSync(join(dir, 'vendor'), `0x${vendor}\n`);
    writeFileSync(join(dir, 'device'), `0x${device}\n`);
    writeFileSync(join(dir, 'driver_override'), '(null)\n');
    if (driver) {
      mkdirSync(join(sys, 'bus/pci/drivers', driver), { recursive: true });
      symlinkSync(join('../../../bus/pci/drivers', driver), join(dir, 'driver'));
    }
    if (group) {
      mkdirSync(join(sys, 'kernel/iommu_groups', group, 'devices'), { recursive: true });
      symlinkSync(join('../../../kernel/iommu_groups', group), join(dir, 'iommu_group'));
      if (driver === 'vfio-pci') writeFileSync(join(dev, 'vfio', group), '');
    }
    return dir;
  };
  const netdev = (dir: string, name: string, mac: string, extra: Record<string, string> = {}) => {
    mkdirSync(join(dir, 'net', name), { recursive: true });
    writeFileSync(join(dir, 'net', name, 'address'), `${mac}\n`);
    for (const [k, v] of Object.entries(extra)) writeFileSync(join(dir, 'net', name, k), `${v}\n`);
    symlinkSync(join(dir, 'net', name), join(sys, 'class/net', name));
    symlinkSync(join('../../..', basename(dir)), join(dir, 'net', name, 'device'));
  };
  for (const nic of nics) {
    const pfDir = pciDevice(nic.pci, nic.driver, nic.vendor, nic.device, '1');
    writeFileSync(join(pfDir, 'sriov_totalvfs'), `${nic.totalVfs}\n`);
    writeFileSync(join(pfDir, 'sriov_numvfs'), `${nic.vfs.length}\n`);
    netdev(pfDir, nic.pf, '52:54:00:12:34:56', nic.switchId ? { phys_switch_id: nic.switchId, phys_port_name: 'p0' } : {});
    nic.vfs.forEach((vf, index) => {
      const vfDir = pciDevice(vf.pci, vf.driver, nic.vendor, nic.vfDevice, vf.group);
      symlinkSync(join('..', vf.pci), join(pfDir, `virtfn${index}`));
      symlinkSync(join('..', nic.pci), join(vfDir, 'physfn'));
      if (vf.netdev) netdev(vfDir, vf.netdev, vf.mac ?? '00:00:00:00:00:00');
      // switchdev: each VF's representor, a netdev of the PF's switch
      if (nic.switchId) netdev(pfDir, `${nic.pf}_${index}`, '02:00:00:00:00:0' + index, { phys_switch_id: nic.switchId, phys_port_name: `pf0vf${index}` });
    });
  }
  return { sys, dev };
}

const IGB: NicFixture = {
  pf: 'enp1s0', pci: '0000:01:00.0', driver: 'igb', vendor: '8086', device: '10c9', vfDevice: '10ca', totalVfs: 7,
  vfs: [{ pci: '0000:01:10.0', driver: 'vfio-pci', group: '10' }, { pci: '0000:01:10.2', driver: 'vfio-pci', group: '11' },
    { pci: '0000:01:10.4', driver: 'igbvf', group: '12', netdev: 'enp1s0v2', mac: '02:11:22:33:44:55' }],
};
const IXGBE: NicFixture = {
  pf: 'enp4s0f0', pci: '0000:04:00.0', driver: 'ixgbe', vendor: '8086', device: '10fb', vfDevice: '10ed', totalVfs: 63,
  vfs: [{ pci: '0000:04:10.0', driver: 'ixgbevf', group: '30', netdev: 'enp4s0f0v0', mac: '5a:00:00:00:00:01' }],
};
const I40E: NicFixture = {
  pf: 'ens2f0', pci: '0000:05:00.0', driver: 'i40e', vendor: '8086', device: '1572', vfDevice: '154c', totalVfs: 64,
  vfs: [{ pci: '0000:05:02.0', driver: 'iavf', group: '40', netdev: 'ens2f0v0', mac: 'aa:bb:cc:00:00:01' }],
};
const MLX5: NicFixture = {
  pf: 'enp3s0f0', pci: '0000:03:00.0', driver: 'mlx5_core', vendor: '15b3', device: '1017', vfDevice: '1018', totalVfs: 8,
  switchId: '8e4a6c0003fd0b98',
  vfs: [{ pci: '0000:03:00.2', driver: 'mlx5_core', group: '20', netdev: 'enp3s0f0v0' }, { pci: '0000:03:00.3', driver: 'vfio-pci', group: '21' }],
};

describe('SR-IOV: the VF pool on sysfs fixture trees', function () {
  let root: string;
  const noFiles = { selectors: '/nonexistent/selectors.json', facts: '/nonexistent/facts.json' };
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'mnkvm-sriov-')); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds PFs and their VFs: driver, IDs, IOMMU group, netdev (igb, ixgbe, i40e)', () => {
    const roots = machine(root, [IGB, IXGBE, I40E]);
    expect(listPfs(roots).map((p) => [p.name, p.pci, p.driver, p.totalVfs, p.numVfs, p.switchdev])).to.deep.equal([
      ['enp1s0', '0000:01:00.0', 'igb', 7, 3, false], ['enp4s0f0', '0000:04:00.0', 'ixgbe', 63, 1, false],
      ['ens2f0', '0000:05:00.0', 'i40e', 64, 1, false]]);
    const igb = findPf(roots, '0000:01:00.0')!;
    expect(igb.name).to.equal('enp1s0');
    expect(listVfs(roots, igb).map((v) => [v.index, v.pci, v.driver, v.vendor, v.device, v.iommuGroup, v.netdev])).to.deep.equal([
      [0, '0000:01:10.0', 'vfio-pci', '8086', '10ca', '10', null], [1, '0000:01:10.2', 'vfio-pci', '8086', '10ca', '11', null],
      [2, '0000:01:10.4', 'igbvf', '8086', '10ca', '12', 'enp1s0v2']]);
    expect(listVfs(roots, findPf(roots, 'enp4s0f0')!)[0]).to.include({ driver: 'ixgbevf', device: '10ed', netdev: 'enp4s0f0v0' });
  });

  it("sees mlx5's switchdev mode by its representors, and finds a VF's", () => {
    const roots = machine(root, [MLX5, IGB]);
    const mlx = findPf(roots, 'enp3s0f0')!;
    expect(mlx.switchdev).to.equal(true);
    expect(representor(roots, mlx, 1)).to.equal('enp3s0f0_1');
    expect(representor(roots, mlx, 5)).to.equal(null);
    expect(findPf(roots, 'enp1s0')!.switchdev).to.equal(false);
  });

  it('selects VFs as the SR-IOV device plugin does: PF names with ranges, vendor, device, driver; the first selector that matches wins', () => {
    const roots = machine(root, [IGB, IXGBE, MLX5]);
    expect([...parsePfName('enp1s0#0-2+5').indexes!]).to.deep.equal([0, 1, 2, 5]);
    expect(parsePfName('enp1s0')).to.deep.equal({ pf: 'enp1s0', indexes: null });
    expect(() => parsePfName('enp1s0#a-b')).to.throw("VF range 'a-b' of enp1s0: give indexes and ranges like enp1s0#0-3+5");
    const pick = (s: Parameters<typeof select>[1]) => select(roots, s).flatMap((c) => c.vfs.map((v) => v.pci));
    expect(pick([{ pfNames: ['enp1s0#1-2'] }])).to.deep.equal(['0000:01:10.2', '0000:01:10.4']);
    expect(pick([{ vendors: ['15b3'], drivers: ['vfio-pci'] }])).to.deep.equal(['0000:03:00.3']);
    expect(pick([{ devices: ['ffff'] }, { devices: ['10ed'] }])).to.deep.equal(['0000:04:10.0']);
    expect(pick([{ drivers: ['vfio-pci'] }])).to.deep.equal(['0000:01:10.0', '0000:01:10.2', '0000:03:00.3']);
    // pf=NAME#range on the command line
    expect(candidates(roots, 'enp1s0#0+2', noFiles)[0]!.vfs.map((v) => v.index)).to.deep.equal([0, 2]);
  });

  it("takes pf=auto's PFs from a selectors file, else the verify play's facts, else every PF", () => {
    const roots = machine(root, [IGB, IXGBE]);
    const files = { selectors: join(root, 'selectors.json'), facts: join(root, 'facts.json') };
    expect(candidates(roots, 'auto', files).map((c) => c.pf.name)).to.deep.equal(['enp1s0', 'enp4s0f0']);
    writeFileSync(files.facts, JSON.stringify({ pfs: [{ pci: '0000:04:00.0', vfs: [] }] }));
    expect(candidates(roots, 'auto', files).map((c) => c.pf.name)).to.deep.equal(['enp4s0f0']);
    writeFileSync(files.selectors, JSON.stringify({ selectors: [{ pfNames: ['enp1s0#0'] }] }));
    expect(candidates(roots, 'auto', files).flatMap((c) => c.vfs.map((v) => v.pci))).to.deep.equal(['0000:01:10.0']);
    writeFileSync(files.selectors, '{ selectors: ');
    expect(() => candidates(roots, 'auto', files)).to.throw(`${files.selectors}: not valid JSON`);
  });

  it('says in one line what is wrong with a PF', () => {
    const roots = machine(root, [IGB]);
    mkdirSync(join(roots.sys, 'class/net/lo'));
    expect(() => candidates(roots, 'enp9s0', noFiles)).to.throw(/^SR-IOV link: no network interface enp9s0 on this machine: name a PF/);
    expect(() => candidates(roots, 'lo', noFiles)).to.throw(/^SR-IOV link: lo is not an SR-IOV physical function \(no sriov_totalvfs\)/);
  });

  describe('taking a VF', function () {
    let record: RunRecord;
    let other: RunRecord;
    const settings = { vlan: 100, mac: '02:00:00:00:00:01', rate: null, spoofchk: null, trust: null };
    beforeEach(() => {
      record = RunRecord.createLasting(`unit-sriov-${process.pid}`)!;
      other = RunRecord.createLasting(`unit-sriov-other-${process.pid}`)!;
    });
    afterEach(async () => {
      await record.sweep();
      await other.sweep();
    });

    it('says in one line when VFIO is not ready: modules missing, IOMMU off', async () => {
      let roots = machine(root, [IGB], ['vfio_iommu_type1']);
      const pf = findPf(roots, 'enp1s0')!;
      let error = await new VfPool(record, roots).take({ pf, vfs: listVfs(roots, pf) }, 'passthrough', settings).catch((e: Error) => e);
      expect(String(error)).to.contain('SR-IOV link: the vfio_pci module is not loaded: modprobe vfio-pci (the sriov Ansible role loads it at boot)');
      rmSync(root, { recursive: true }); mkdirSync(root);
      roots = machine(root, [IGB]);
      rmSync(join(roots.sys, 'kernel/iommu_groups'), { recursive: true });
      error = await new VfPool(record, roots).take({ pf, vfs: listVfs(roots, pf) }, 'passthrough', settings).catch((e: Error) => e);
      expect(String(error)).to.match(/SR-IOV link: the IOMMU is off on this machine \(PF enp1s0 is in no IOMMU group\): add intel_iommu=on/);
    });

    it('says in one line that a PF has no VFs, or none free: another run holds them', async () => {
      const roots = machine(root, [{ ...IGB, vfs: [] }]);
      const pf = findPf(roots, 'enp1s0')!;
      let error = await new VfPool(record, roots).take({ pf, vfs: [] }, 'passthrough', settings).catch((e: Error) => e);
      expect(String(error)).to.contain('PF enp1s0 has no VFs: make some (echo 7 > /sys/class/net/enp1s0/device/sriov_numvfs, or the sriov Ansible role)');
      const full = machine(join(root, 'b'), [IGB]);
      const igb = findPf(full, 'enp1s0')!;
      for (const vf of listVfs(full, igb)) other.claim('vf', vf.pci);
      error = await new VfPool(record, full).take({ pf: igb, vfs: listVfs(full, igb) }, 'passthrough', settings).catch((e: Error) => e);
      expect(String(error)).to.match(/PF enp1s0: no free VF \(3 in range, 3 held by other mnkvm runs, the rest by this one\): stop a run, make more VFs, or use another PF \(VF 0000:01:10.0 is in use by another mnkvm run/);
    });
  });

  it("waits for a VF's netdev to take the MAC its PF set (iavf applies it late), and says so when it does not", async () => {
    const roots = machine(root, [I40E]);
    const address = join(roots.sys, 'bus/pci/devices/0000:05:02.0/net/ens2f0v0/address');
    setTimeout(() => writeFileSync(address, '02:00:00:00:00:07\n'), 300);
    await netdevTakesMac(roots, '0000:05:02.0', 'ens2f0v0', '02:00:00:00:00:07');
    const error = await netdevTakesMac(roots, '0000:05:02.0', 'ens2f0v0', '02:00:00:00:00:08', 200).catch((e: Error) => e);
    expect(String(error)).to.contain('VF 0000:05:02.0: its interface ens2f0v0 did not take MAC 02:00:00:00:00:08 within 0.2 s (it has 02:00:00:00:00:07): reload its driver');
  });

  it('takes the link options from one definition, each bad value one line', () => {
    expect(sriovLinkOptions({})).to.deep.equal({ pf: 'auto', vlan: 'auto', rate: null, spoofchk: null, trust: null, mode: 'auto' });
    expect(sriovLinkOptions({ pf: 'enp1s0#0-3', vlan: '200', rate: 100, spoofchk: 'off', trust: 'on', mode: 'emulated' }))
      .to.deep.equal({ pf: 'enp1s0#0-3', vlan: 200, rate: 100, spoofchk: false, trust: true, mode: 'emulated' });
    expect(() => sriovLinkOptions({ vlan: 5000 })).to.throw('SR-IOV link option vlan=5000: must be a whole number from 1 to 4094');
    expect(() => sriovLinkOptions({ trust: 'yes' })).to.throw('SR-IOV link option trust=yes: must be on or off');
    expect(() => sriovLinkOptions({ mode: 'fast' })).to.throw('SR-IOV link option mode=fast: must be one of auto, hardware, emulated');
    expect(() => sriovLinkOptions({ bw: 10 })).to.throw("unknown SR-IOV link option 'bw': use pf, vlan, rate, spoofchk, trust, mode (e.g. --link sriov,pf=enp1s0,vlan=auto)");
    expect(sriovLinkSyntax()).to.equal('--link sriov[,pf=NAME|auto][,vlan=ID|auto][,rate=MBIT][,spoofchk=on|off][,trust=on|off][,mode=auto|hardware|emulated]');
  });
});

describe('SR-IOV links between servers (their fabrics, asked by the run; src/sriov/across.ts)', () => {
  const end = (node: string, server: string): SriovEnd => ({ node, role: 'kvm', nsPid: 1, intf: `${node}-eth0`, mac: null, server });
  const ends: [SriovEnd, SriovEnd] = [end('h1', 'tb1'), end('h2', 'tb2')];
  /** Servers whose fabrics answer as told: taken, the VLANs a server has taken already (a clash there). */
  const servers = (taken: Record<string, number[]> = {}) => {
    const asked: string[] = [];
    return {
      asked,
      list: () => ['tb1', 'tb2'].map((name, i) => ({ name, alias: name, user: 'root', data: `10.0.0.${i + 1}`, dataIntf: `enp${i + 1}s0` })),
      fabric: async (server: string, request: ServerFabricRequest): Promise<SriovLinkMade | null> => {
        if ('unlink' in request) {
          asked.push(`${server} unlink`);
          return null;
        }
        if ('link' in request) {
          asked.push(`${server} link`);
          return { mode: 'hardware', pf: 'enp1s0', vlan: 100, ends: [], notices: [] };
        }
        const { options, vlan } = request.half;
        asked.push(`${server} half ${options.pf} ${vlan}`);
        if (taken[server]?.includes(vlan)) throw new MnkvmError(`${server}: VLAN ${vlan} is taken`, 'clash');
        return { mode: 'hardware', pf: options.pf, vlan, ends: [{ nic: null, mac: server }], notices: [] };
      },
    };
  };

  it('makes a link within a server by that server, and gives it back there', async () => {
    const on = servers();
    const across = new SriovAcrossServers(on);
    await across.link('l1', [end('h1', 'tb1'), end('h2', 'tb1')], sriovLinkOptions({}));
    await across.unlink('l1');
    expect(on.asked).to.deep.equal(['tb1 link', 'tb1 unlink']);
  });

  it("makes a half on each server's cabled PF, on one VLAN, and gives both back", async () => {
    const on = servers();
    const across = new SriovAcrossServers(on);
    const made = await across.link('l1', ends, sriovLinkOptions({}));
    expect(made.pf).to.equal('tb1:enp1s0 tb2:enp2s0');
    expect(made.vlan).to.be.within(100, 4094);
    expect(made.ends.map((e) => e.mac)).to.deep.equal(['tb1', 'tb2']);
    await across.unlink('l1');
    expect(on.asked).to.deep.equal([`tb1 half enp1s0 ${made.vlan}`, `tb2 half enp2s0 ${made.vlan}`, 'tb1 unlink', 'tb2 unlink']);
    const named = servers();
    await new SriovAcrossServers(named).link('l2', ends, sriovLinkOptions({ pf: 'ens4', vlan: 7 }));
    expect(named.asked).to.deep.equal(['tb1 half ens4 7', 'tb2 half ens4 7']);
  });

  it('takes the next VLAN where one server has it taken (vlan=auto), giving back the half made; a VLAN asked for is one line', async () => {
    const taken: Record<string, number[]> = { tb2: [] };
    const on = servers(taken);
    const across = new SriovAcrossServers(on);
    const vlan = (await across.link('l1', ends, sriovLinkOptions({}))).vlan;
    const after = (v: number) => (v >= 4094 ? 100 : v + 1);
    taken.tb2.push(after(vlan));
    on.asked.length = 0;
    const made = await across.link('l2', ends, sriovLinkOptions({}));
    expect(made.vlan).to.equal(after(after(vlan)));
    expect(on.asked).to.deep.equal([`tb1 half enp1s0 ${after(vlan)}`, `tb2 half enp2s0 ${after(vlan)}`, 'tb1 unlink',
      `tb1 half enp1s0 ${made.vlan}`, `tb2 half enp2s0 ${made.vlan}`]);
    const fixed = servers({ tb2: [7] });
    const error = await new SriovAcrossServers(fixed).link('l1', ends, sriovLinkOptions({ vlan: 7 })).catch((e: Error) => e);
    expect(String(error)).to.contain('tb2: VLAN 7 is taken');
    expect(fixed.asked).to.deep.equal(['tb1 half enp1s0 7', 'tb2 half enp2s0 7', 'tb1 unlink']);
    const full = servers({ tb1: Array.from({ length: 4095 }, (_, v) => v) });
    const last = await new SriovAcrossServers(full).link('l1', ends, sriovLinkOptions({})).catch((e: Error) => e);
    expect(String(last)).to.match(/VLAN \d+ is taken/);
    expect(full.asked).to.have.length(16);   // (16 VLANs tried; nothing made, nothing to give back)
  });
});

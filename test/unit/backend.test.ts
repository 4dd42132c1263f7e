// The engine's seams without a VM: the backend contract run against the
// fake backend, calls and errors as they cross to Python, the QEMU command
// line, and a VF's checks on fixture trees of other machines' sysfs.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINE_CALLS } from '../../src/engine/calls.js';
import { Engine } from '../../src/engine/engine.js';
import { FakeBackend } from '../../src/engine/fake.js';
import { checkVfio, mirredLines } from '../../src/engine/nics.js';
import { kvmHostOptions } from '../../src/engine/options.js';
import { MININET_EXT, PROJECT_ROOT } from '../../src/engine/paths.js';
import { domainXml, ROOT_PORTS, tapInterfaceXml, vfHostdevXml } from '../../src/engine/libvirt/domain.js';
import { FIRST_NIC, kernelCmdline, MGMT } from '../../src/engine/guest/contract.js';
import { nicDevice, qemuArgs, type VmSpec } from '../../src/engine/qemu/args.js';
import { RunRecord } from '../../src/engine/records.js';
import { backendContract } from '../contract.js';

const FAKE_IMAGE = join(PROJECT_ROOT, 'test', 'fixtures', 'fake-image');

backendContract('fake', (record) => new FakeBackend(record), () => kvmHostOptions({ image: FAKE_IMAGE, share: 'none' }));

describe('engine calls from Python', function () {
  let engine: Engine;
  beforeEach(() => { engine = new Engine(RunRecord.create(), (record) => new FakeBackend(record)); });
  afterEach(async () => { await engine.shutdown(); });

  it('are listed once on each side, and the lists agree', () => {
    const python = readFileSync(join(MININET_EXT, 'mnkvm', 'engine.py'), 'utf8');
    const defined = [...python.slice(python.indexOf('# The engine\'s calls')).matchAll(/^def (\w+)\(/gm)].map((m) => m[1]);
    expect(defined).to.deep.equal(ENGINE_CALLS);
  });

  it('answer JSON, and errors as records of kind, message and details', async () => {
    const call = async (name: string, args: object) => JSON.parse(await engine.call(name, JSON.stringify(args))) as Record<string, unknown>;
    expect(await call('kvmHostOptions', { given: { mem: '512' } })).to.have.nested.property('value.mem', 512);
    expect(await call('kvmHostOptions', { given: { mem: 100 } })).to.deep.equal({
      error: { kind: 'usage', message: 'KVM host option mem=100: must be a whole number >= 160', details: {} } });
    expect(await call('vmReady', { name: 'h9' })).to.deep.equal({ error: { kind: 'usage', message: 'no KVM host named h9', details: {} } });
    const bug = await call('noSuchCall', {});
    expect(bug).to.have.nested.property('error.kind', 'internal');
    expect(bug).to.have.nested.property('error.message', 'no engine call named noSuchCall');
  });

  it('say the least memory mem= takes (Containernet\'s mem_limit asks it)', async () => {
    const call = async (name: string, args: object) => JSON.parse(await engine.call(name, JSON.stringify(args))) as { value?: unknown; error?: unknown };
    const least = (await call('kvmHostLeastMem', {})).value as number;
    expect(await call('kvmHostOptions', { given: { mem: least } })).to.have.nested.property('value.mem', least);
    expect(await call('kvmHostOptions', { given: { mem: least - 1 } })).to.have.property('error');
  });
});

describe('QEMU command line', function () {
  const spec: VmSpec = {
    name: 'h1', nsPid: 1, dir: '/run/x', accel: 'tcg', mem: 256, cpus: 2, share: null, bootTimeout: 60, layout: null,
    image: { name: 'default', dir: '/i', kernel: '/i/k', initramfs: '/i/r', sshKey: '/i/key', key: 'k', rootfs: null }, boot: { kind: 'cold' },
  };
  const value = (args: string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

  it('boots the image with the spec, paused, and plugs the first NIC in root port 1', () => {
    const args = qemuArgs(spec, true);
    expect(value(args, '-m')).to.deep.equal(['256']);
    expect(value(args, '-smp')).to.deep.equal(['2']);
    expect(value(args, '-accel')).to.deep.equal(['tcg,tb-size=64']);
    expect(args).to.include('-S');
    expect(value(args, '-append')[0]).to.contain('norandmaps');
    expect(value(args, '-netdev')).to.include('tap,id=net1,ifname=tap1,script=no,downscript=no');   // no vhost under TCG
    expect(value(args, '-device')).to.include(`virtio-net-pci,id=nic1,netdev=net1,mac=${FIRST_NIC.mac},bus=rp1`);
    expect(value(args, '-device').filter((d) => d.startsWith('pcie-root-port'))).to.have.length(8);
    expect(args).not.to.include('-incoming');
  });

  it('uses KVM with vhost-net, and maps a clone onto its template copy-on-write', () => {
    const args = qemuArgs({ ...spec, accel: 'kvm', boot: { kind: 'clone', ram: '/t/ram', state: '/t/state' } }, true);
    expect(value(args, '-accel')).to.deep.equal(['kvm']);
    expect(value(args, '-cpu')).to.deep.equal(['host']);
    expect(value(args, '-netdev')).to.include('tap,id=net1,ifname=tap1,script=no,downscript=no,vhost=on');
    expect(value(args, '-object')).to.include('memory-backend-file,id=ram0,size=256M,mem-path=/t/ram,share=off');
    expect(value(args, '-incoming')).to.deep.equal(['defer']);
    expect(value(args, '-append')[0]).not.to.contain('norandmaps');
  });

  it("attaches an image's root filesystem read-only, and tells the guest where it is", () => {
    const args = qemuArgs({ ...spec, image: { ...spec.image, rootfs: '/i/rootfs.ext4' } }, true);
    expect(value(args, '-drive')).to.deep.equal(['file=/i/rootfs.ext4,format=raw,if=none,id=rootfs,readonly=on']);
    expect(value(args, '-device')).to.include('virtio-blk-pci,drive=rootfs,bus=pcie.0');
    expect(value(args, '-append')[0]).to.contain('mnkvm.rootfs=/dev/vda');
    expect(value(qemuArgs(spec, true), '-append')[0]).not.to.contain('mnkvm.rootfs');
    expect(qemuArgs(spec, true)).not.to.include('-drive');
  });

  it('plugs a VF by its PCI address, and wires a tap both ways', () => {
    expect(nicDevice(3, { kind: 'vfio', pci: '0000:03:10.2' })).to.deep.equal({ driver: 'vfio-pci', id: 'nic3', host: '0000:03:10.2', bus: 'rp3' });
    expect(mirredLines('h1-eth0', 'tap1').filter((l) => l.includes('mirred'))).to.deep.equal([
      'filter add dev h1-eth0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev tap1',
      'filter add dev tap1 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev h1-eth0',
    ]);
  });
});

describe('libvirt domain XML', function () {
  const spec = {
    name: 'h1', nsPid: 1, dir: '/run/x', mem: 256, cpus: 2, share: '/tmp', bootTimeout: 60, boot: 'cold' as const,
    backend: 'libvirt' as const, uri: 'qemu:///system', tune: 'none' as const, layout: null,
    image: { name: 'default', dir: '/i', kernel: '/i/k', initramfs: '/i/r', sshKey: '/i/key', key: 'k', rootfs: null },
  };
  const parts = { domain: 'mnkvm-run-1-2-h1', emulator: '/usr/bin/qemu-system-x86_64', accel: 'tcg' as const, mgmtTap: 'mkt00000001', firstTap: 'mkt00000002' };

  it("is the QEMU backend's guest: its kernel and command line, consoles, agent port and NICs; QEMU as root", () => {
    const xml = domainXml(spec, parts);
    expect(xml).to.match(/^<domain type='qemu'>/);
    expect(domainXml(spec, { ...parts, accel: 'kvm' })).to.match(/^<domain type='kvm'>[^]*<cpu mode='host-passthrough'\/>/);
    expect(xml).to.contain(`<cmdline>${kernelCmdline('tcg', spec.image)}</cmdline>`).and.to.contain('<kernel>/i/k</kernel>');
    expect(xml).to.contain("<memory unit='MiB'>256</memory>").and.to.contain("<vcpu placement='static'>2</vcpu>");
    expect(xml).to.contain("<serial type='file'><source path='/run/x/serial.log'/>");
    expect(xml).to.contain("<console type='unix'><source mode='bind' path='/run/x/console.sock'/><target type='virtio'/></console>");
    expect(xml).to.contain("<source path='/run/x/ctl'/><target type='virtio' name='mnkvm.ctl'/>");
    expect(xml).to.contain("name='mnkvm.share'");
    expect(xml).to.contain(tapInterfaceXml('mkt00000001', MGMT.mac)).and.to.contain(tapInterfaceXml('mkt00000002', FIRST_NIC.mac));
    expect(xml.match(/pcie-root-port/g)).to.have.length(ROOT_PORTS);
    expect(xml).to.contain("<label>+0:+0</label>");
    expect(domainXml({ ...spec, share: null }, parts)).not.to.contain('mnkvm.share');
    // an image's root filesystem: a read-only disk, in a root port of its own
    const withRootfs = domainXml({ ...spec, image: { ...spec.image, rootfs: '/i/rootfs.ext4' } }, parts);
    expect(withRootfs).to.contain("<source file='/i/rootfs.ext4'/><target dev='vda' bus='virtio'/><readonly/><shareable/></disk>");
    expect(withRootfs).to.contain('mnkvm.rootfs=/dev/vda');
    expect(withRootfs.match(/pcie-root-port/g)).to.have.length(ROOT_PORTS + 1);
    expect(xml).not.to.contain('<disk');
    // libvirt's own schema takes them
    const dir = mkdtempSync(join(tmpdir(), 'mnkvm-domain-'));
    try {
      for (const domain of [xml, withRootfs]) {
        writeFileSync(join(dir, 'domain.xml'), domain);
        const check = spawnSync('virt-xml-validate', [join(dir, 'domain.xml'), 'domain'], { encoding: 'utf8' });
        expect(check.status, check.stderr + check.stdout).to.equal(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes a VF through by its PCI address, left bound as the VF pool bound it', () => {
    expect(vfHostdevXml('0000:03:10.2')).to.equal(
      "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x03' slot='0x10' function='0x2'/></source></hostdev>");
  });
});

describe('a VF for VFIO passthrough (sysfs fixture trees)', function () {
  let root: string;
  const pci = '0000:03:10.2';
  /** A machine's sysfs and /dev as the kernel lays them out, with pci bound to driver. */
  function machine(driver: string | null, group: string | null, vfioDev: boolean): { sysfs: string; dev: string } {
    const sysfs = join(root, 'sys');
    const device = join(sysfs, 'devices/pci0000:00/0000:00:02.0', pci);
    mkdirSync(device, { recursive: true });
    mkdirSync(join(sysfs, 'bus/pci/devices'), { recursive: true });
    symlinkSync(join('../../../devices/pci0000:00/0000:00:02.0', pci), join(sysfs, 'bus/pci/devices', pci));
    if (driver) {
      mkdirSync(join(sysfs, 'bus/pci/drivers', driver), { recursive: true });
      symlinkSync(join('../../../../bus/pci/drivers', driver), join(device, 'driver'));
    }
    if (group) {
      mkdirSync(join(sysfs, 'kernel/iommu_groups', group), { recursive: true });
      symlinkSync(join('../../../../kernel/iommu_groups', group), join(device, 'iommu_group'));
    }
    mkdirSync(join(root, 'dev', 'vfio'), { recursive: true });
    if (vfioDev && group) writeFileSync(join(root, 'dev', 'vfio', group), '');
    return { sysfs, dev: join(root, 'dev') };
  }
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'mnkvm-sysfs-')); });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('passes a VF bound to vfio-pci in an open IOMMU group', () => {
    const { sysfs, dev } = machine('vfio-pci', '42', true);
    expect(() => checkVfio(pci, sysfs, dev)).not.to.throw();
  });

  it('says in one line what is missing', () => {
    expect(() => checkVfio('03:10.2')).to.throw('VF 03:10.2: not a PCI address: give one like 0000:03:10.0 (lspci -D shows them)');
    let m = machine('igbvf', '42', true);
    expect(() => checkVfio(pci, m.sysfs, m.dev)).to.throw(`VF ${pci}: bound to igbvf, not vfio-pci: bind it to vfio-pci first`);
    rmSync(root, { recursive: true }); mkdirSync(root);
    m = machine(null, '42', true);
    expect(() => checkVfio(pci, m.sysfs, m.dev)).to.throw(`VF ${pci}: bound to no driver, not vfio-pci`);
    rmSync(root, { recursive: true }); mkdirSync(root);
    m = machine('vfio-pci', null, false);
    expect(() => checkVfio(pci, m.sysfs, m.dev)).to.throw(`VF ${pci}: in no IOMMU group: turn the IOMMU on`);
    rmSync(root, { recursive: true }); mkdirSync(root);
    m = machine('vfio-pci', '42', false);
    expect(() => checkVfio(pci, m.sysfs, m.dev)).to.throw(`VF ${pci}: ${m.dev}/vfio/42 is missing: load the vfio-pci module`);
  });
});

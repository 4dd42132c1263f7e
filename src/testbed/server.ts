// A virtual testbed server's QEMU command line: a q35 machine with an
// emulated IOMMU, `igb` NICs (Intel 82576, SR-IOV with 7 VFs) as its
// physical functions, cabled to another server's by UDP datagrams on
// 127.0.0.1, SSH on a loopback port, this checkout shared in by 9p. Pure:
// unit-tested.
import { join } from 'node:path';

/** One end of a cable: this PF's UDP port, and the port of the PF at the other end. */
export interface Cable { port: number; peerPort: number }

export interface ServerSpec {
  name: string;
  dir: string;          // runtime folder: serial log, QMP socket
  disk: string;         // the server's qcow2 overlay
  mem: number;          // MiB
  cpus: number;
  accel: 'kvm' | 'tcg';
  sshPort: number;      // on 127.0.0.1
  authorizedKeys: string;
  share: string;        // a folder of this machine mounted at the same path in the server
  pfs: Cable[];
}

/** The MAC of the management NIC (the server image's network config matches it). */
export const MGMT_MAC = '52:54:00:ab:00:01';

/** PF p of server s (0-based): its MAC. */
export function pfMac(server: number, pf: number): string {
  return `52:54:00:ac:${(server + 1).toString(16).padStart(2, '0')}:${(pf + 1).toString(16).padStart(2, '0')}`;
}

/**
 * Server s's address on its data network (0-based s): its first PF, cabled
 * to its pair's (tb1-tb2, tb3-tb4, ...), with jumbo frames, so that a VXLAN
 * tunnel between the two carries a full 1500-byte frame.
 */
export function dataAddress(server: number): string {
  return `10.99.${Math.floor(server / 2)}.${(server % 2) + 1}`;
}
export const DATA_PREFIX = 24;
export const DATA_MTU = 9000;

/** PF p's PCI address in the server: root port p is the (p+1)th bridge, so its bus is p+1. */
export function pfAddress(pf: number): string {
  return `0000:${(pf + 1).toString(16).padStart(2, '0')}:00.0`;
}

export function serverArgs(s: ServerSpec, serverIndex: number): string[] {
  const pfs = s.pfs.flatMap((cable, p) => [
    '-device', `pcie-root-port,id=pfport${p},bus=pcie.0,chassis=${p + 1},addr=${(0x10 + p).toString(16)}.0`,
    '-netdev', `dgram,id=pf${p},local.type=inet,local.host=127.0.0.1,local.port=${cable.port},` +
      `remote.type=inet,remote.host=127.0.0.1,remote.port=${cable.peerPort}`,
    '-device', `igb,netdev=pf${p},bus=pfport${p},mac=${pfMac(serverIndex, p)}`,
  ]);
  return [
    '-name', `${s.name},process=mnkvm-testbed:${s.name}`,
    '-nodefaults', '-no-user-config', '-display', 'none',
    // the IOMMU's interrupt remapping needs the split irqchip; VFIO in the server needs caching-mode
    '-machine', 'q35,kernel-irqchip=split', '-accel', s.accel === 'kvm' ? 'kvm' : 'tcg,tb-size=256',
    // -cpu max (TCG) and host (KVM) both show the server SVM or VMX: it runs KVM itself
    '-cpu', s.accel === 'kvm' ? 'host' : 'max', '-smp', String(s.cpus), '-m', String(s.mem),
    '-device', 'intel-iommu,intremap=on,caching-mode=on',
    '-drive', `file=${s.disk},if=virtio,format=qcow2,discard=unmap`,
    '-netdev', `user,id=mgmt,hostfwd=tcp:127.0.0.1:${s.sshPort}-:22`,
    '-device', `virtio-net-pci,netdev=mgmt,mac=${MGMT_MAC}`,
    ...pfs,
    '-fw_cfg', `name=opt/mnkvm/hostname,string=${s.name}`,
    '-fw_cfg', `name=opt/mnkvm/authorized_keys,file=${s.authorizedKeys}`,
    '-fw_cfg', `name=opt/mnkvm/share,string=${s.share}`,
    // (mnkvm-testbed gives the first PF this address and MTU at each boot)
    ...(s.pfs.length ? ['-fw_cfg', `name=opt/mnkvm/data,string=${pfMac(serverIndex, 0)} ${dataAddress(serverIndex)}/${DATA_PREFIX} ${DATA_MTU}`] : []),
    '-virtfs', `local,path=${s.share},mount_tag=mnkvm,security_model=none,readonly=on`,
    '-serial', `file:${join(s.dir, 'serial.log')}`,
    '-qmp', `unix:${join(s.dir, 'qmp.sock')},server=on,wait=off`,
  ];
}

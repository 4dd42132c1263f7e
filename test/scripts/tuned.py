"""A tuned KVM host beside a namespace host (mnkvm run tuned.py): h1 with
tune=latency, cpus=2, vCPU 1 on core 1 (cores=1; TUNED_CORES=auto: on an
isolated core of the machine's), h2 a namespace host, on a Linux bridge
(TUNED_LINK=sriov: SR-IOV links, h2 an untuned KVM host). Prints one
line, TUNED and a JSON object: where each of QEMU's threads may run
(taskset -p) and how it is scheduled, the host's shell's cores, its VF's
host interrupts' cores, the free hugepages while h1 runs, and the guest's
view of its own isolation."""
import json
import os
import subprocess

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo

from mnkvm import KVMHost, SRIOVLink

CORES = os.environ.get( 'TUNED_CORES', '1' )
SRIOV = os.environ.get( 'TUNED_LINK' ) == 'sriov'


class Tuned( Topo ):
    """h1 (KVM, tuned) and h2 (namespace) on s1; with SR-IOV links h2 is
       an untuned KVM host (single,3's shape: what QEMU's igb carries)."""
    def build( self ):
        s1 = self.addSwitch( 's1' )
        cores = {} if CORES == 'auto' else dict( cores=int( CORES ) )
        h1 = self.addHost( 'h1', cls=KVMHost, tune='latency', cpus=2,
                           **cores )
        h2 = self.addHost( 'h2', **( dict( cls=KVMHost ) if SRIOV else {} ) )
        for h in ( h1, h2 ):
            self.addLink( h, s1, **( dict( cls=SRIOVLink ) if SRIOV else {} ) )


def affinity( pid ):
    "The cores a thread may run on, as taskset -p says them."
    out = subprocess.check_output( [ 'taskset', '-cp', str( pid ) ] )
    return out.decode().strip().split( ': ' )[ -1 ]


def threads( pid ):
    """QEMU's threads (named, debug-threads=on): name -> 'CORES POLICY'
       (POLICY: fifo or other)."""
    r = {}
    for tid in sorted( os.listdir( '/proc/%d/task' % pid ) ):
        with open( '/proc/%d/task/%s/comm' % ( pid, tid ) ) as f:
            name = f.read().strip()
        policy = os.sched_getscheduler( int( tid ) )
        r.setdefault( name, [] ).append( '%s %s' % (
            affinity( tid ), 'fifo' if policy == os.SCHED_FIFO else 'other' ) )
    return r


def vfIrqs( host ):
    """The cores of the host interrupts of host's VFs passed through
       (vfio-msix[N](PCI) in /proc/interrupts)."""
    pcis = [ '(%s)' % nic[ 'pci' ] for nic in
             ( getattr( intf, 'nicAttachment', lambda: None )()
               for intf in host.intfList() ) if nic and nic[ 'kind' ] == 'vf' ]
    with open( '/proc/interrupts' ) as f:
        irqs = [ line.split( ':' )[ 0 ].strip() for line in f
                 if 'vfio-msix' in line and any( p in line for p in pcis ) ]
    r = []
    for irq in irqs:
        with open( '/proc/irq/%s/smp_affinity_list' % irq ) as f:
            r.append( f.read().strip() )
    return r


def freeHugepages():
    "HugePages_Free, from /proc/meminfo."
    with open( '/proc/meminfo' ) as f:
        return int( [ line.split()[ 1 ] for line in f
                      if line.startswith( 'HugePages_Free:' ) ][ 0 ] )


setLogLevel( 'info' )
net = Mininet( topo=Tuned(), switch=LinuxBridge, controller=None )
net.start()
h1, h2 = net.get( 'h1', 'h2' )
popen = h1.popen( 'true' )
popen.communicate()
r = { 'loss': net.pingAll(), 'isolatedCpus': h1.isolatedCpus,
      'threads': threads( h1.vmPid ), 'shell': affinity( h1.pid ),
      'mininet': [ affinity( os.getpid() ), affinity( h2.pid ) ],
      'popen': popen.args[ 2 ], 'hugepagesFree': freeHugepages(),
      'vfIrqs': vfIrqs( h1 ) }
guest = {}
for key, command in ( ( 'cmdline', 'cat /proc/cmdline' ),
                      ( 'isolated', 'cat /sys/devices/system/cpu/isolated' ),
                      ( 'nohzFull', 'cat /sys/devices/system/cpu/nohz_full' ),
                      ( 'irqDefault', 'cat /proc/irq/default_smp_affinity' ),
                      ( 'nicIrqs', 'for i in $(grep -E '
                                   '"virtio[0-9]+-(input|output)" '
                                   '/proc/interrupts | cut -d: -f1); do '
                                   'cat /proc/irq/$i/effective_affinity_list; '
                                   'done | sort -u | tr "\\n" " "' ),
                      ( 'thp', 'cat /sys/kernel/mm/transparent_hugepage/'
                               'enabled' ) ):
    guest[ key ] = h1.cmd( command ).strip()
r[ 'guest' ] = guest
net.stop()
print( 'TUNED ' + json.dumps( r ) )

"""The start-up benchmark's measurements, taken where the network lives.

For each kind of host (namespace: Mininet's Host; kvm: KVMHost) and size N:
time from start to pingall-ready (every host answers cmd() and the network
is started), memory (RSS of each host's processes, and new memory taken from
the machine: the fall of MemAvailable), pingAll's loss, and shutdown time."""

import json
from time import time

from mininet.log import setLogLevel
from mininet.node import Host
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo

from mnkvm import engine
from mnkvm.kvmhost import KVMHost
from mnkvm.net import MnkvmNet

KINDS = { 'namespace': Host, 'kvm': KVMHost }


def kibField( path, field ):
    "A 'Field:  1234 kB' line of a /proc file, in KiB; 0 if missing."
    try:
        with open( path ) as f:
            for line in f:
                if line.startswith( field + ':' ):
                    return int( line.split()[ 1 ] )
    except OSError:
        pass   # the process is gone
    return 0


def memAvailableKiB():
    "MemAvailable from /proc/meminfo."
    return kibField( '/proc/meminfo', 'MemAvailable' )


def rssKiB( pid ):
    "VmRSS of a process, 0 if it is gone."
    return kibField( '/proc/%d/status' % pid, 'VmRSS' )


def hostPids( host ):
    "The processes that make up a host: its shell, and its VM if any."
    return [ host.pid ] + ( [ host.vmPid ] if isinstance( host, KVMHost )
                            else [] )


def startup( kind, n, repetition ):
    """One measurement of `single,n` with hosts of kind; returns a dict.
       firstCmdSeconds: one more host added to the running network, from
       addHost to its first cmd('true') answered."""
    before = memAvailableKiB()
    start = time()
    net = MnkvmNet( topo=SingleSwitchTopo( n ), host=KINDS[ kind ],
                    switch=LinuxBridge, controller=None )
    net.start()
    for host in net.hosts:
        host.cmd( 'true' )
    ready = time() - start
    newMem = before - memAvailableKiB()
    rss = [ sum( rssKiB( p ) for p in hostPids( h ) ) for h in net.hosts ]
    dropped = net.pingAll()
    start = time()
    net.addHost( 'hx' ).cmd( 'true' )
    firstCmd = time() - start
    start = time()
    net.stop()
    engine.call( 'settle' )   # VMs stop in the background: wait for all
    return dict( kind=kind, hosts=n, repetition=repetition,
                 readySeconds=ready, perHostSeconds=ready / n,
                 firstCmdSeconds=firstCmd, stopSeconds=time() - start,
                 newMemoryKiB=newMem, newMemoryPerHostKiB=newMem / n,
                 rssPerHostKiB=sum( rss ) / n, pingDroppedPercent=dropped )


def main( specJson ):
    """Run the measurements of spec {kinds, sizes, repeat}; returns them as
       JSON. A KVM host is started first, unmeasured, so that the snapshot
       template exists before the first measurement."""
    spec = json.loads( specJson )
    setLogLevel( 'warning' )
    if 'kvm' in spec[ 'kinds' ]:
        startup( 'kvm', 1, 0 )
    return json.dumps( [ startup( kind, n, r + 1 )
                         for r in range( spec[ 'repeat' ] )
                         for n in spec[ 'sizes' ]
                         for kind in spec[ 'kinds' ] ] )

#!/usr/bin/env python3
"""Two KVM hosts and one namespace host on a Linux bridge; run with

    mnkvm run examples/kvm_pair.py

It prints each host's kernel (the VMs run the guest kernel, the namespace
host shares the machine's) and the RTT between the hosts."""

from mininet.cli import CLI
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import Host
from mininet.nodelib import LinuxBridge
from mnkvm import KVMHost


def run( interactive=False ):
    "Build, measure, and (optionally) open Mininet's CLI."
    net = Mininet( switch=LinuxBridge, controller=None )
    s1 = net.addSwitch( 's1' )
    for name, cls in ( ( 'vm1', KVMHost ), ( 'vm2', KVMHost ),
                       ( 'ns1', Host ) ):
        net.addLink( net.addHost( name, cls=cls ), s1 )
    net.start()
    for host in net.hosts:
        print( '%s (%s): kernel %s' % ( host.name, type( host ).__name__,
                                         host.cmd( 'uname -r' ).strip() ) )
    net.pingFull( [ net.get( 'vm1' ), net.get( 'vm2' ) ] )
    if interactive:
        CLI( net )
    net.stop()


if __name__ == '__main__':
    import sys
    setLogLevel( 'info' )
    run( interactive='--cli' in sys.argv )

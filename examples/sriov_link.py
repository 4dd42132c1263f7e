#!/usr/bin/env python3
"""Two KVM hosts on one SR-IOV link with its knobs set: a VLAN of its own,
a transmit rate limit, spoof checking on, trust off. Where the machine has
an SR-IOV NIC (pf=auto finds it) the link's ends are VFs passed through;
elsewhere the link is emulated, and one line says so (and that the VF's
knobs are left out). Run with

    mnkvm run examples/sriov_link.py

(examples/sriov_link.ts is its TypeScript port)."""

from mininet.log import setLogLevel
from mininet.net import Mininet
from mnkvm import KVMHost, SRIOVLink


def run():
    "Link two KVM hosts by SR-IOV, say where the link runs, ping."
    net = Mininet( host=KVMHost, controller=None )
    h1, h2 = net.addHost( 'h1' ), net.addHost( 'h2' )
    link = net.addLink( h1, h2, cls=SRIOVLink, vlan=300, rate=100,
                        spoofchk='on', trust='off' )
    net.start()
    print( 'LINK %s %s' % ( link, link.status() ) )
    net.pingAll()
    net.stop()


if __name__ == '__main__':
    setLogLevel( 'info' )
    run()

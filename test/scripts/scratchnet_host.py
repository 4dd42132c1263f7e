#!/usr/bin/env python3
"""Mininet's scratchnet.py, with Host objects for the hosts and a Linux
bridge for the switch (the machine has no Open vSwitch kernel datapath):
nodes and links built by hand, outside Mininet()."""

from mininet.link import Link
from mininet.log import info, setLogLevel
from mininet.net import Mininet
from mininet.node import Host, Node


def scratchNet():
    "Create network from scratch using a Linux bridge."
    info( "*** Creating nodes\n" )
    switch = Node( 's0', inNamespace=False )
    h0 = Host( 'h0' )
    h1 = Host( 'h1' )
    info( "*** Creating links\n" )
    Link( h0, switch )
    Link( h1, switch )
    info( "*** Configuring hosts\n" )
    h0.setIP( '192.168.123.1/24' )
    h1.setIP( '192.168.123.2/24' )
    info( '%s is a %s, %s is a %s\n' % ( h0, type( h0 ).__name__,
                                         h1, type( h1 ).__name__ ) )
    info( "*** Starting network using a Linux bridge\n" )
    switch.cmd( 'ip link add dp0 type bridge' )
    for intf in switch.intfs.values():
        switch.cmd( 'ip link set %s master dp0 up' % intf )
    switch.cmd( 'ip link set dp0 up' )
    info( "*** Running test\n" )
    h0.cmdPrint( 'ping -c1 -W5 ' + h1.IP() )
    info( "*** Stopping network\n" )
    switch.cmd( 'ip link del dp0' )
    switch.deleteIntfs()
    for node in ( h0, h1, switch ):
        node.terminate()


if __name__ == '__main__':
    setLogLevel( 'info' )
    Mininet.init()
    scratchNet()

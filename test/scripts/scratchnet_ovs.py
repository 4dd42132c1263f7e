#!/usr/bin/env python3
"""Mininet's scratchnet.py done with Mininet's node classes by hand,
outside Mininet(): an OVSKernelSwitch and a Controller, the switch started
with the controller, then a wait until it is connected. Under `mnkvm run
--switch lxbr --controller none` they are a Linux bridge and the
do-nothing controller, as in a network, so the wait ends."""

from time import sleep

from mininet.link import Link
from mininet.log import info, setLogLevel
from mininet.net import Mininet
from mininet.node import Controller, Host, OVSKernelSwitch


def scratchNet():
    "Create network from scratch using Mininet's switch and controller."
    info( '*** Creating nodes\n' )
    controller = Controller( 'c0', inNamespace=False )
    switch = OVSKernelSwitch( 's0', inNamespace=False )
    h0 = Host( 'h0' )
    h1 = Host( 'h1' )
    info( '*** Creating links\n' )
    Link( h0, switch )
    Link( h1, switch )
    info( '*** Configuring hosts\n' )
    h0.setIP( '192.168.123.1/24' )
    h1.setIP( '192.168.123.2/24' )
    info( 's0 is a %s, c0 is a %s\n' % ( type( switch ).__name__,
                                         type( controller ).__name__ ) )
    info( '*** Starting network\n' )
    controller.start()
    switch.start( [ controller ] )
    info( '*** Waiting for switch to connect to controller' )
    for _ in range( 30 ):
        if switch.connected():
            break
        sleep( 1 )
        info( '.' )
    info( '\n*** Running test\n' )
    h0.cmdPrint( 'ping -c1 -W5 ' + h1.IP() )
    info( '*** Stopping network\n' )
    controller.stop()
    switch.stop()
    for node in ( h0, h1 ):
        node.terminate()


if __name__ == '__main__':
    setLogLevel( 'info' )
    Mininet.init()
    scratchNet()

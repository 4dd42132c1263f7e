#!/usr/bin/env python3
"""Mininet's mobility.py, its test unchanged, with a Linux bridge that
moves interfaces as its MobilitySwitch does: this machine has no Open
vSwitch kernel module, and on Open vSwitch's userspace datapath a moved
port carries no traffic. (examples/mobility.ts is its TypeScript port.)"""

from mininet.examples import mobility
from mininet.log import setLogLevel
from mininet.nodelib import LinuxBridge


class MobilityBridge( LinuxBridge ):
    "A Linux bridge with mobility.py's MobilitySwitch's moves."

    delIntf = mobility.MobilitySwitch.delIntf
    addIntf = mobility.MobilitySwitch.addIntf
    renameIntf = mobility.MobilitySwitch.renameIntf
    moveIntf = mobility.MobilitySwitch.moveIntf

    def attach( self, intf ):
        "Make intf a port of the bridge."
        self.cmd( 'ip link set', intf, 'master', self )

    def detach( self, intf ):
        "Take intf off the bridge."
        self.cmd( 'ip link set', intf, 'nomaster' )

    def dpctl( self, *args ):
        "del-flows: forget the addresses the bridge learned."
        if args == ( 'del-flows', ):
            return self.cmd( 'bridge fdb flush dev', self )
        return LinuxBridge.dpctl( self, *args )


if __name__ == '__main__':
    mobility.MobilitySwitch = MobilityBridge
    setLogLevel( 'info' )
    mobility.mobilityTest()

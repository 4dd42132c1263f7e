#!/usr/bin/env python3
"""Mininet's treeping64.py at small size (in npm test; the 2 x 64 hosts
are in npm run test:scale): a TreeNet of UserSwitch and one of
OVSKernelSwitch, each pinging all, in the example's own words."""

from mininet.log import info, setLogLevel
from mininet.node import OVSKernelSwitch, UserSwitch
from mininet.topolib import TreeNet


def treePing( depth=2, fanout=2 ):
    "Run the ping test on small tree networks, one per switch class."
    results = {}
    switches = { 'reference user': UserSwitch,
                 'Open vSwitch kernel': OVSKernelSwitch }
    for name, switch in switches.items():
        info( '*** Testing', name, 'datapath\n' )
        network = TreeNet( depth=depth, fanout=fanout, switch=switch,
                           waitConnected=True )
        results[ name ] = network.run( network.pingAll )
    info( '\n*** Tree network ping results:\n' )
    for name in switches:
        info( '%s: %d%% packet loss\n' % ( name, results[ name ] ) )
    info( '\n' )


if __name__ == '__main__':
    setLogLevel( 'info' )
    treePing()

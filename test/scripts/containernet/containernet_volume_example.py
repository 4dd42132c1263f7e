#!/usr/bin/python3
"""Containernet's volume example (containernet_volume_example.py), written
for this suite: two Docker hosts share a folder of this machine as a
volume, d1 has a second one, read-only, and the two are linked directly.
Prints CONTAINERNET and a JSON object for the test; argv[1], argv[2]: the
folders of this machine for the volumes."""
import json
import sys

from mininet.link import TCLink
from mininet.log import info, setLogLevel
from mininet.net import Containernet
from mininet.node import Controller

setLogLevel( 'info' )
vol1, vol2 = sys.argv[ 1: 3 ]

net = Containernet( controller=Controller )
net.addController( 'c0' )
d1 = net.addDocker( 'd1', ip='10.0.0.251', dimage='web:1',
                    volumes=[ '%s:/vol1' % vol1, '%s:/vol2:ro' % vol2 ] )
d2 = net.addDocker( 'd2', ip='10.0.0.252', dimage='web:1',
                    volumes=[ '%s:/vol1' % vol1 ] )
s1 = net.addSwitch( 's1' )
s2 = net.addSwitch( 's2' )
net.addLink( d1, d2 )
net.addLink( s1, s2, cls=TCLink, bw=10 )
net.addLink( s2, d2 )
info( '*** Starting network\n' )
net.start()
r = { 'ping': net.ping( [ d1, d2 ] ) }
d1.cmd( 'echo written by d1 > /vol1/from-d1' )
r[ 'd2reads' ] = d2.cmd( 'cat /vol1/from-d1' ).strip()
r[ 'vol2' ] = d1.cmd( 'cat /vol2/hello' ).strip()
r[ 'vol2write' ] = d1.cmd( 'touch /vol2/new 2>&1 || echo refused' ).strip()
net.stop()
print( 'CONTAINERNET ' + json.dumps( r ) )

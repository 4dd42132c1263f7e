#!/usr/bin/python3
"""Containernet's CMD field example (containernet_example_cmd_field.py),
written for this suite: d2.start() runs its image's ENTRYPOINT and CMD (a
web server here), d1 has a dcmd, and d2's port 80 is published on this
machine (port_bindings), as with Docker. Prints CONTAINERNET and a JSON
object for the test; argv[1]: the port of this machine for d2's port 80."""
import json
import sys
import time
import urllib.request

from mininet.link import TCLink
from mininet.log import info, setLogLevel
from mininet.net import Containernet
from mininet.node import Controller

setLogLevel( 'info' )
port = int( sys.argv[ 1 ] )

net = Containernet( controller=Controller )
net.addController( 'c0' )
d1 = net.addDocker( 'd1', ip='10.0.0.251', dimage='web:1',
                    dcmd='sh -c "echo up > /app/dcmd"' )
d2 = net.addDocker( 'd2', ip='10.0.0.252', dimage='web:1', ports=[ 80, 81 ],
                    port_bindings={ 80: port, '5353/udp': 5353 } )
s1 = net.addSwitch( 's1' )
s2 = net.addSwitch( 's2' )
net.addLink( d1, s1 )
net.addLink( s1, s2, cls=TCLink, bw=10 )
net.addLink( s2, d2 )
info( '*** Starting network\n' )
net.start()
d2.start()
r = { 'ping': net.ping( [ d1, d2 ] ) }
r[ 'dcmd' ] = d1.cmd( 'for i in $(seq 50); do [ -f /app/dcmd ] && break; '
                      'sleep 0.1; done; cat /app/dcmd' ).strip()
r[ 'started' ] = d2.cmd( 'for i in $(seq 50); do [ -f /app/started ] && '
                         'break; sleep 0.1; done; cat /app/started' ).strip()
r[ 'published' ] = d2.published
# d2's web server, from this machine through the published port, and from d1
for _ in range( 50 ):
    try:
        with urllib.request.urlopen( 'http://127.0.0.1:%d/started' % port,
                                     timeout=10 ) as page:
            r[ 'fromMachine' ] = page.read().decode().strip()
        break
    except OSError as e:
        r[ 'fromMachine' ] = str( e )
        time.sleep( 0.2 )
r[ 'fromD1' ] = d1.cmd( 'wget -q -O - http://10.0.0.252/started' ).strip()
net.stop()
print( 'CONTAINERNET ' + json.dumps( r ) )

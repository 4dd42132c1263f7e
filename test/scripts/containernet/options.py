#!/usr/bin/python3
"""A Containernet script, in the style of Containernet's own examples
(containernet_example.py, the dcmd and volume examples, dockerhosts.py):
Docker hosts with options, a TCLink between switches, d2.start() running
the image's CMD, a Docker host added and removed at run time. Under `mnkvm
run` each Docker host is a KVM host (the test maps web:1 to an image with
--image). Prints one line, CONTAINERNET and a JSON object, for the test."""
import json
import os
import sys

from mininet.link import TCLink
from mininet.log import setLogLevel
from mininet.net import Containernet
from mininet.node import Controller

setLogLevel( 'info' )
volume = sys.argv[ 1 ]   # a folder of this machine, for d1's volume

net = Containernet( controller=Controller )
net.addController( 'c0' )
d1 = net.addDocker( 'd1', ip='10.0.0.251', dimage='web:1',
                    environment={ 'MODE': 'test run' },
                    volumes=[ '%s:/data' % volume ], mem_limit='300m',
                    cpu_quota=150000, cpu_period=100000,
                    dcmd='sh -c "echo up > /app/dcmd"' )
d2 = net.addDocker( 'd2', ip='10.0.0.252', dimage='web:1',
                    ports=[ 80 ], port_bindings={ 80: 8080 } )
s1 = net.addSwitch( 's1' )
s2 = net.addSwitch( 's2' )
net.addLink( d1, s1 )
net.addLink( s1, s2, cls=TCLink, bw=10 )
net.addLink( s2, d2 )
net.start()
r = {}
r[ 'ping' ] = net.ping( [ d1, d2 ] )
r[ 'env' ] = d1.cmd( 'echo "$MODE/$GREETING"' ).strip()
r[ 'envPopen' ] = d1.popen( [ 'sh', '-c', 'echo "$MODE"' ] ).communicate()[ 0 ].decode().strip()
r[ 'volume' ] = d1.cmd( 'cat /data/hello' ).strip()
r[ 'memKiB' ] = int( d1.cmd( "awk '/MemTotal/ { print $2 }' /proc/meminfo" ) )
r[ 'cpus' ] = int( d1.cmd( 'grep -c ^processor /proc/cpuinfo' ) )
r[ 'cwd' ] = d1.cmd( 'pwd' ).strip()
r[ 'dcmd' ] = d1.cmd( 'for i in $(seq 50); do [ -f /app/dcmd ] && break; sleep 0.1; done; cat /app/dcmd' ).strip()
d2.start()
r[ 'started' ] = d2.cmd( 'for i in $(seq 50); do [ -f /app/started ] && break; sleep 0.1; done; cat /app/started' ).strip()
d2.updateCpuLimit( cpu_shares=512 )
r[ 'resources' ] = d2.resources[ 'cpu_shares' ]
# at run time: a Docker host and its link added, then removed again
d3 = net.addDocker( 'd3', ip='10.0.0.253', dimage='web:1' )
net.addLink( d3, s1, params1={ 'ip': '10.0.0.253/8' } )
r[ 'added' ] = d1.cmd( 'ping -c 1 -W 5 10.0.0.253' )
net.removeLink( node1='d3', node2='s1' )
net.removeDocker( 'd3' )
r[ 'hosts' ] = sorted( h.name for h in net.hosts )
net.stop()
print( 'CONTAINERNET ' + json.dumps( r ) )

#!/usr/bin/python3
"""Containernet's basic example (containernet_example.py), written for this
suite: two Docker hosts behind two switches with a TCLink between them,
here with resource options and environment, and Docker hosts added and
removed at run time (as dockerhosts.py does). Under `mnkvm run` each Docker
host is a KVM host (the test maps web:1 to an image with --image). Prints
one line, CONTAINERNET and a JSON object, for the test."""
import json

from mininet.link import TCLink
from mininet.log import info, setLogLevel
from mininet.net import Containernet
from mininet.node import Controller

setLogLevel( 'info' )

net = Containernet( controller=Controller )
info( '*** Adding controller\n' )
net.addController( 'c0' )
info( '*** Adding docker containers\n' )
d1 = net.addDocker( 'd1', ip='10.0.0.251', dimage='web:1',
                    environment={ 'MODE': 'test run' }, mem_limit='300m',
                    cpu_quota=150000, cpu_period=100000 )
d2 = net.addDocker( 'd2', ip='10.0.0.252', dimage='web:1', cpuset_cpus='0',
                    cpu_shares=20 )
info( '*** Adding switches\n' )
s1 = net.addSwitch( 's1' )
s2 = net.addSwitch( 's2' )
info( '*** Creating links\n' )
net.addLink( d1, s1 )
net.addLink( s1, s2, cls=TCLink, bw=10 )   # (no delay=: no netem here)
net.addLink( s2, d2 )
info( '*** Starting network\n' )
net.start()
r = {}
r[ 'ping' ] = net.ping( [ d1, d2 ] )
r[ 'env' ] = d1.cmd( 'echo "$MODE/$GREETING"' ).strip()
r[ 'envPopen' ] = d1.popen(
    [ 'sh', '-c', 'echo "$MODE"' ] ).communicate()[ 0 ].decode().strip()
r[ 'memKiB' ] = int( d1.cmd( "awk '/MemTotal/ { print $2 }' /proc/meminfo" ) )
r[ 'cpus' ] = int( d1.cmd( 'grep -c ^processor /proc/cpuinfo' ) )
r[ 'cwd' ] = d1.cmd( 'pwd' ).strip()
d2.updateCpuLimit( cpu_shares=512 )
r[ 'resources' ] = d2.resources[ 'cpu_shares' ]
info( '*** Adding a docker container at run time\n' )
d3 = net.addDocker( 'd3', ip='10.0.0.253', dimage='web:1' )
net.addLink( d3, s1, params1={ 'ip': '10.0.0.253/8' } )
r[ 'added' ] = d1.cmd( 'ping -c 1 -W 5 10.0.0.253' )
net.removeLink( node1='d3', node2='s1' )
net.removeDocker( 'd3' )
r[ 'hosts' ] = sorted( h.name for h in net.hosts )
info( '*** Stopping network\n' )
net.stop()
print( 'CONTAINERNET ' + json.dumps( r ) )

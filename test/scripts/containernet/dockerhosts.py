#!/usr/bin/python3
"""Containernet's dockerhosts.py, written for this suite in its words:
namespace hosts and Docker hosts behind three switches (one named as
OVSSwitch), a second interface on d2, d5 with a volume of the machine's
whole tree (left out, one line) and a published port, pings to addresses
given by hand (manualdestip), and d4 added to the running network. The
test maps ubuntu:trusty to a busybox image (no bash: the shell's own
ifconfig and ip). Argument: the port of this machine d5 publishes."""
import sys

from mininet.cli import CLI
from mininet.log import info, setLogLevel
from mininet.net import Containernet
from mininet.node import Controller, Docker, OVSSwitch


def topology( port ):
    "Create a network with some docker containers acting as hosts."
    net = Containernet( controller=Controller )
    info( '*** Adding controller\n' )
    net.addController( 'c0' )
    info( '*** Adding hosts\n' )
    h1 = net.addHost( 'h1' )
    h2 = net.addHost( 'h2' )
    info( '*** Adding docker containers\n' )
    d1 = net.addDocker( 'd1', ip='10.0.0.251', dimage='ubuntu:trusty' )
    d2 = net.addDocker( 'd2', ip='10.0.0.252', dimage='ubuntu:trusty',
                        cpu_period=50000, cpu_quota=25000 )
    d3 = net.addHost( 'd3', ip='11.0.0.253', cls=Docker,
                      dimage='ubuntu:trusty', cpu_shares=20 )
    net.addDocker( 'd5', dimage='ubuntu:trusty', volumes=[ '/:/mnt/vol1:rw' ],
                   ports=[ 9999 ], port_bindings={ 9999: port },
                   publish_all_ports=True )
    info( '*** Adding switch\n' )
    s1 = net.addSwitch( 's1' )
    s2 = net.addSwitch( 's2', cls=OVSSwitch )
    s3 = net.addSwitch( 's3' )
    info( '*** Creating links\n' )
    net.addLink( h1, s1 )
    net.addLink( s1, d1 )
    net.addLink( h2, s2 )
    net.addLink( d2, s2 )
    net.addLink( s1, s2 )
    net.addLink( d2, s3, params1={ 'ip': '11.0.0.254/8' } )
    net.addLink( d3, s3 )
    info( '*** Starting network\n' )
    net.start()
    net.ping( [ d1, d2 ] )
    net.ping( [ d1 ], manualdestip='10.0.0.252' )
    net.ping( [ d2, d3 ], manualdestip='11.0.0.254' )
    info( '*** Dynamically add a container at runtime\n' )
    d4 = net.addDocker( 'd4', dimage='ubuntu:trusty' )
    net.addLink( d4, s1, params1={ 'ip': '10.0.0.254/8' } )
    net.ping( [ d1 ], manualdestip='10.0.0.254' )
    info( '*** Running CLI\n' )
    CLI( net )
    info( '*** Stopping network' )
    net.stop()


if __name__ == '__main__':
    setLogLevel( 'info' )
    topology( int( sys.argv[ 1 ] ) )

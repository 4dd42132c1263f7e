"""An unchanged-style script: Mininet's default classes, one explicit Host."""
from mininet.net import Mininet
from mininet.node import Host
from mininet.topo import SingleSwitchTopo

net = Mininet( topo=SingleSwitchTopo( 2 ) )
h9 = net.addHost( 'h9', cls=Host, ip='10.0.0.9/8' )
net.addLink( h9, net.get( 's1' ) )
h9.configDefault()   # added after the build: configure it as build() would
net.start()
print( 'KINDS', ' '.join( '%s=%s' % ( n.name, type( n ).__name__ )
                          for n in net.hosts + net.switches ) )
print( 'DROPPED', net.pingAll() )
net.stop()

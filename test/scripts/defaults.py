"""An unchanged-style script: Mininet's default classes, one explicit Host."""
from mininet.net import Mininet
from mininet.node import Host
from mininet.topo import SingleSwitchTopo

net = Mininet( topo=SingleSwitchTopo( 2 ) )
net.addLink( net.addHost( 'h9', cls=Host ), net.get( 's1' ) )
net.start()
print( 'KINDS', ' '.join( '%s=%s' % ( n.name, type( n ).__name__ )
                          for n in net.hosts + net.switches ) )
print( 'DROPPED', net.pingAll() )
net.stop()

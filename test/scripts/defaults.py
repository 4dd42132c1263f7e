"""An unchanged-style script: Mininet's default classes, Host named
explicitly, and a host class of the script's own."""
from mininet.net import Mininet
from mininet.node import Host
from mininet.topo import SingleSwitchTopo


class MyHost( Host ):
    "The script's own host class: mnkvm run --host leaves it alone."


net = Mininet( topo=SingleSwitchTopo( 2 ) )
h8 = net.addHost( 'h8', cls=Host, ip='10.0.0.8/8' )
h9 = net.addHost( 'h9', cls=MyHost, ip='10.0.0.9/8' )
for host in ( h8, h9 ):
    net.addLink( host, net.get( 's1' ) )
    host.configDefault()   # added after the build: configure as build() would
net.start()
print( 'KINDS', ' '.join( '%s=%s' % ( n.name, type( n ).__name__ )
                          for n in net.hosts + net.switches ) )
print( 'DROPPED', net.pingAll() )
net.stop()

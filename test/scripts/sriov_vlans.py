"""Two SR-IOV links, each on a VLAN of its own, one subnet for all four
hosts: traffic crosses a link, never from one link to the other."""
from mininet.net import Mininet
from mininet.node import Host
from mnkvm import KVMHost, SRIOVLink

net = Mininet( controller=None )
h1 = net.addHost( 'h1', cls=KVMHost, ip='10.0.0.1/8' )
h2 = net.addHost( 'h2', cls=KVMHost, ip='10.0.0.2/8' )
h3 = net.addHost( 'h3', cls=Host, ip='10.0.0.3/8' )
h4 = net.addHost( 'h4', cls=Host, ip='10.0.0.4/8' )
a = net.addLink( h1, h2, cls=SRIOVLink )
b = net.addLink( h3, h4, cls=SRIOVLink )
net.start()
print( 'VLANS', a.made[ 'vlan' ], b.made[ 'vlan' ] )


def received( src, dst ):
    out = src.cmd( 'ping -c2 -W1', dst.IP() )
    if ' received' not in out:
        return -1
    return int( out.split( ' received' )[ 0 ].split()[ -1 ] )


for src, dst in ( ( h1, h2 ), ( h3, h4 ), ( h1, h3 ), ( h1, h4 ), ( h4, h2 ) ):
    print( 'PING %s %s %d' % ( src, dst, received( src, dst ) ) )
net.stop()

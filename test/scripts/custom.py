"""A --custom file for mn/mnkvm: a topology, a host class, a link class and a
test, in mn's dicts (mn itself drops the links dict)."""
from mininet.link import TCLink
from mininet.topo import Topo
from mnkvm import KVMHost


class PairTopo( Topo ):
    "Two hosts on one switch."
    def build( self, n=2 ):
        s1 = self.addSwitch( 's1' )
        for i in range( 1, n + 1 ):
            self.addLink( self.addHost( 'h%d' % i ), s1 )


class ShapedLink( TCLink ):
    "A TCLink at 6 Mbit/s, to show that the links dict is honoured."
    def __init__( self, *args, **params ):
        params.setdefault( 'bw', 6 )
        TCLink.__init__( self, *args, **params )


def linkKinds( net ):
    "Print each link's class."
    print( 'LINKS',
           ' '.join( sorted( type( l ).__name__ for l in net.links ) ) )


topos = { 'pair': PairTopo }
hosts = { 'vm': KVMHost }
links = { 'shaped': ShapedLink }
tests = { 'linkkinds': linkKinds }

"""Containernet's network (its mininet/net.py): Mininet, with Docker
hosts."""

from mininet.log import output
from mininet.net import Mininet

from mnkvm.containernet.node import Docker


class Containernet( Mininet ):
    """Containernet's network (install() makes it an MnkvmNet, as every
       network of a run): Mininet, with Docker hosts."""

    def ping( self, hosts=None, timeout=None, manualdestip=None ):
        """Mininet's ping; manualdestip: Containernet's, each of hosts (all
           by default) pings that address once."""
        if manualdestip is None:
            return Mininet.ping( self, hosts, timeout )
        received = 0
        hosts = hosts or self.hosts
        for node in hosts:
            result = node.cmd( 'ping -c1 %s %s' % (
                '-W %s' % timeout if timeout else '', manualdestip ) )
            got = self._parsePing( result )[ 1 ] > 0
            received += got
            output( '%s -> %s\n' % ( node.name,
                                     manualdestip if got else 'X' ) )
        ploss = 100.0 * ( len( hosts ) - received ) / len( hosts )
        output( '*** Results: %i%% dropped (%d/%d received)\n' % (
            ploss, received, len( hosts ) ) )
        return ploss

    def addDocker( self, name, cls=Docker, **params ):
        "Add a Docker host (a KVM host)."
        return self.addHost( name, cls=cls, **params )

    def removeDocker( self, name, **params ):
        "Remove a Docker host."
        return self.removeHost( name, **params )

    def removeHost( self, name, **_params ):
        "Containernet's removeHost: Mininet's delHost, by name or node."
        self.delHost( self.get( name ) if isinstance( name, str ) else name )

    def removeLink( self, link=None, node1=None, node2=None ):
        "Containernet's removeLink: a link, or the link between two nodes."
        if link is not None:
            return self.delLink( link )
        node1, node2 = ( self.get( n ) if isinstance( n, str ) else n
                         for n in ( node1, node2 ) )
        return self.delLinkBetween( node1, node2 )

"""Containernet's trees of Docker hosts (its mininet/topolib.py)."""

from mininet.topolib import TreeTopo

from mnkvm.containernet.net import Containernet
from mnkvm.containernet.node import Docker


class ContainerTreeTopo( TreeTopo ):
    "Containernet's: Mininet's TreeTopo, its hosts Docker hosts of dimage."

    def build( self, depth=1, fanout=2, dimage='ubuntu:trusty' ):
        self.dimage = dimage
        TreeTopo.build( self, depth, fanout )

    def addHost( self, name, **opts ):
        opts.update( cls=Docker, dimage=self.dimage )
        return TreeTopo.addHost( self, name, **opts )


def TreeContainerNet( depth=1, fanout=2, dimage='ubuntu:trusty', **kwargs ):
    "Containernet's: a tree network of Docker hosts."
    return Containernet( topo=ContainerTreeTopo( depth, fanout, dimage ),
                         **kwargs )

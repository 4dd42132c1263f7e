"""Namespace hosts and KVM hosts in one network: pingAll must drop nothing."""
from mininet.net import Mininet
from mininet.node import Host
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo
from mnkvm import KVMHost


class MixedTopo( Topo ):
    "h1 (namespace) and h2 (KVM) on s1, h3 (KVM) and h4 (namespace) on s2."
    def build( self ):
        s1, s2 = self.addSwitch( 's1' ), self.addSwitch( 's2' )
        self.addLink( self.addHost( 'h1', cls=Host ), s1 )
        self.addLink( self.addHost( 'h2', cls=KVMHost ), s1 )
        self.addLink( self.addHost( 'h3', cls=KVMHost, mem=160 ), s2 )
        self.addLink( self.addHost( 'h4' ), s2 )
        self.addLink( s1, s2 )


net = Mininet( topo=MixedTopo(), switch=LinuxBridge, controller=None )
net.start()
print( 'KINDS', ' '.join( '%s=%s' % ( h.name, type( h ).__name__ )
                          for h in net.hosts ) )
print( 'MEM', net.get( 'h3' ).cmd(
    "awk '/MemTotal/ {print $2}' /proc/meminfo" ).strip() )
print( 'DROPPED', net.pingAll() )
net.stop()

"""Two KVM hosts on one SR-IOV link whose VFs come from the PF (and VF
range) given as the first argument: e.g. enp1s0#1."""
import sys

from mininet.net import Mininet
from mnkvm import KVMHost, SRIOVLink

net = Mininet( host=KVMHost, controller=None )
h1, h2 = net.addHost( 'h1' ), net.addHost( 'h2' )
net.addLink( h1, h2, cls=SRIOVLink, pf=sys.argv[ 1 ] )
net.start()
print( 'DROPPED', net.pingAll() )
net.stop()

"""SR-IOV links in a script: `from mnkvm import SRIOVLink`, mixed with veth
links in one topology (h3 is a namespace host on a veth link to s1), and
added and deleted at run time between two running KVM hosts."""
from mininet.net import Mininet
from mininet.node import Host
from mininet.nodelib import LinuxBridge
from mnkvm import KVMHost, SRIOVLink

net = Mininet( host=KVMHost, switch=LinuxBridge, controller=None )
h1, h2 = net.addHost( 'h1' ), net.addHost( 'h2' )
h3 = net.addHost( 'h3', cls=Host )
s1 = net.addSwitch( 's1' )
net.addLink( h1, s1, cls=SRIOVLink )
net.addLink( h2, s1, cls=SRIOVLink )
net.addLink( h3, s1 )
net.start()
print( 'LINKS', ' '.join( link.status() for link in net.links ) )
print( 'DROPPED', net.pingAll() )
link = net.addLink( h1, h2, cls=SRIOVLink, vlan=300 )
h1.setIP( '192.168.7.1/24', intf=link.intf1 )
h2.setIP( '192.168.7.2/24', intf=link.intf2 )
print( 'ADDED', link.where(),
       h1.cmd( 'ping -c2 -W2 192.168.7.2' ).strip().splitlines()[ -2 ] )
net.delLink( link )
print( 'DELETED', h1.cmd( 'ip -o link show' ).count( 'h1-eth1' ) )
net.stop()

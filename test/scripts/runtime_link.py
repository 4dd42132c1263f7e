"""addLink at run time between two running KVM hosts (NIC hot-plug), then
delLink; then h1's first link (the NIC its guest started with) is replaced:
the new link takes the old one's name at once."""
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo
from mnkvm import KVMHost

net = Mininet( topo=SingleSwitchTopo( 2 ), host=KVMHost, switch=LinuxBridge,
               controller=None )
net.start()
h1, h2 = net.get( 'h1', 'h2' )
h1.cmd( 'true' ), h2.cmd( 'true' )   # both guests are up before the new link
link = net.addLink( h1, h2 )
h1.setIP( '192.168.7.1/24', intf=link.intf1 )
h2.setIP( '192.168.7.2/24', intf=link.intf2 )
print( 'INTFS', link.intf1, link.intf2 )
print( 'GUEST', h1.cmd( 'ip -o -4 addr show dev h1-eth1' ).strip() )
print( 'PING',
       h1.cmd( 'ping -c2 -W2 192.168.7.2' ).strip().splitlines()[ -2 ] )
net.delLink( link )
print( 'AFTER', h1.ns.cmd( 'ip -o link show' ).count( 'h1-eth1' ),
       h1.cmd( 'ip -o link show' ).count( 'h1-eth1' ) )
s1 = net.get( 's1' )
net.delLink( net.linksBetween( h1, s1 )[ 0 ] )
link = net.addLink( h1, s1 )
# LinuxBridge adds ports in start()
s1.cmd( 'ip link set', link.intf2, 'master s1 up' )
h1.setIP( '10.0.0.1/8', intf=link.intf1 )
print( 'RELINKED', link.intf1,
       h1.cmd( 'cat /sys/class/net/h1-eth0/address' ).strip() ==
       link.intf1.MAC() )
print( 'DROPPED', net.pingAll() )
net.stop()

"""addLink at run time between two running KVM hosts (NIC hot-plug), then delLink."""
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
print( 'PING', h1.cmd( 'ping -c2 -W2 192.168.7.2' ).strip().splitlines()[ -2 ] )
net.delLink( link )
print( 'AFTER', h1.ns.cmd( 'ip -o link show' ).count( 'h1-eth1' ) )
print( 'DROPPED', net.pingAll() )
net.stop()

"""TCLink bw on links of KVM hosts, measured with iperf (Mininet's
net.iperf)."""
import sys
from mininet.link import TCLink
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo
from mnkvm import KVMHost

bw = float( sys.argv[ 1 ] )
net = Mininet( topo=SingleSwitchTopo( 2, lopts={ 'bw': bw } ), host=KVMHost,
               switch=LinuxBridge, link=TCLink, controller=None )
net.start()
h1, h2 = net.get( 'h1', 'h2' )
print( 'QDISC', h1.cmd( 'tc qdisc show dev h1-eth0' ).strip().replace(
    '\r\n', ' | ' ) )
server, client = net.iperf( ( h1, h2 ), seconds=4 )
print( 'IPERF', server, '|', client )
net.stop()

"""A KVM host of each way to start, a snapshot clone and a cold boot, on
one switch: pingAll between them (the testbed test runs it on a server,
where the guests run with KVM)."""
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mnkvm import KVMHost

net = Mininet( switch=LinuxBridge, controller=None )
s1 = net.addSwitch( 's1' )
for name, boot in ( ( 'h1', 'clone' ), ( 'h2', 'cold' ) ):
    net.addLink( net.addHost( name, cls=KVMHost, boot=boot ), s1 )
net.start()
net.pingAll()
net.stop()

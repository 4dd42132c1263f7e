"""Print each KVM host's identity as JSON: restored or booted, hostname, MAC,
16 random bytes, guest clock vs this machine's; then pingall."""
import json
import time

from mininet.net import Mininet
from mininet.topo import SingleSwitchTopo

net = Mininet( topo=SingleSwitchTopo( 2 ) )
net.start()
for host in net.hosts:
    name, mac, rand, clock = host.cmd(
        'hostname; cat /sys/class/net/%s/address; '
        'head -c 16 /dev/urandom | od -An -tx1 | tr -d " "; date +%%s' %
        host.defaultIntf() ).split()
    print( 'IDENTITY', json.dumps( dict(
        host=host.name, restored=host.restored, hostname=name, mac=mac,
        mininetMac=host.MAC(), random=rand,
        clockError=abs( int( clock ) - time.time() ) ) ) )
print( 'DROPPED', net.pingAll() )
net.stop()

"""Hosts start their VMs without waiting for them; Mininet waits only on first use."""
import os
from mininet.net import Mininet
from mnkvm import KVMHost

net = Mininet( controller=None, build=False )
hosts = [ net.addHost( 'h%d' % i, cls=KVMHost ) for i in ( 1, 2, 3 ) ]
running = sum( os.path.exists( '/proc/%d' % h.vmPid ) for h in hosts )
print( 'STARTED %d running, %d booted' % ( running, sum( h.booted for h in hosts ) ) )
for h in hosts:
    h.cmd( 'true' )
print( 'BOOTED', ' '.join( h.name for h in hosts if h.booted ) )
net.stop()

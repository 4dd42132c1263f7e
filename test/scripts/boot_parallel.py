"""Hosts start their VMs without waiting for them: all three are on their
way (QEMU running) once the first answers; Mininet waits only on first use."""
import os
from mininet.net import Mininet
from mnkvm import KVMHost


def qemuRunning( name ):
    "Is the QEMU of KVM host name running? (QEMU names itself mnkvm:NAME)"
    return any( open( '/proc/%s/comm' % p ).read().strip() == 'mnkvm:' + name
                for p in os.listdir( '/proc' ) if p.isdigit() and
                os.path.exists( '/proc/%s/comm' % p ) )


net = Mininet( controller=None, build=False )
hosts = [ net.addHost( 'h%d' % i, cls=KVMHost ) for i in ( 1, 2, 3 ) ]
print( 'STARTED %d booted' % sum( h.booted for h in hosts ) )
hosts[ 0 ].cmd( 'true' )
print( 'AFTER_H1', ' '.join( h.name for h in hosts if qemuRunning( h.name ) ) )
for h in hosts:
    h.cmd( 'true' )
print( 'BOOTED', ' '.join( h.name for h in hosts if h.booted ) )
net.stop()

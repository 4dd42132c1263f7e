"""Two CPULimitedHost namespace hosts (Mininet makes a cgroup for each);
argv[1] 'stop' ends normally, 'cli' waits in the CLI (to be killed)."""
import os
import sys

from mininet.cli import CLI
from mininet.net import Mininet
from mininet.node import CPULimitedHost
from mininet.topo import SingleSwitchTopo
from mininet.util import custom

net = Mininet( topo=SingleSwitchTopo( 2 ),
               host=custom( CPULimitedHost, cpu=.2 ) )
net.start()
print( 'CGROUPS', ' '.join(
    name for name in ( 'h1', 'h2' )
    if os.path.isdir( '/sys/fs/cgroup/cpu/' + name ) ) )
if sys.argv[ 1 ] == 'cli':
    CLI( net )
net.stop()

"""A KVM host's popen() that would run for 10 minutes; argv[1] 'stop' stops
the network at once, 'cli' waits in the CLI (to be killed)."""
import sys

from mininet.cli import CLI
from mininet.net import Mininet

net = Mininet()
h1 = net.addHost( 'h1' )
proc = h1.popen( 'sleep 600' )
print( 'POPEN', proc.pid, flush=True )
if sys.argv[ 1 ] == 'cli':
    CLI( net )
net.stop()

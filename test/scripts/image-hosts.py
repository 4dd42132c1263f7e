"""Two KVM hosts that run the image named in argv[1] (mnkvm run
image-hosts.py --switch lxbr -- IMAGE): pingall, the image's own files and
tools, the guests' writes kept apart, snapshot clones. Prints one line,
IMAGE and a JSON object, for the mocha test."""
import json
import sys

from mininet.net import Mininet
from mininet.topo import SingleSwitchTopo

from mnkvm import KVMHost

image = sys.argv[ 1 ]
net = Mininet( topo=SingleSwitchTopo( 2 ), controller=None,
               host=lambda name, **params: KVMHost( name, image=image,
                                                    **params ) )
net.start()
h1, h2 = net.get( 'h1', 'h2' )
r = { 'dropped': net.pingAll() }
r[ 'debian' ] = h1.cmd( 'cat /etc/debian_version' ).strip()
r[ 'iperf3' ] = h1.cmd( 'iperf3 --version | head -1' ).strip()
h1.cmd( 'echo mine > /etc/written-by-h1' )
r[ 'ownWrite' ] = h1.cmd( 'cat /etc/written-by-h1' ).strip()
r[ 'otherSees' ] = h2.cmd( 'cat /etc/written-by-h1 2>&1' ).strip()
r[ 'restored' ] = [ h.restored for h in ( h1, h2 ) ]
net.stop()
print( 'IMAGE ' + json.dumps( r ) )

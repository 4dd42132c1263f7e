"""An SR-IOV link between two servers (mnkvm run sriov-spread.py --servers
tb1,tb2): h1 on tb1 and h2 on tb2, a VF each on the PFs cabled between the
servers, meeting on the cable on the link's VLAN; h3 on tb1 beside h1, on a
switch by an SR-IOV link within the server. Prints one line, SRIOV and a
JSON object, for the mocha test."""
import json

from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo

from mnkvm import SRIOVLink


class AcrossServers( Topo ):
    "h1 (tb1) -- h2 (tb2), and h3 (tb1) on s1 (tb1) with h1."
    def build( self ):
        h1 = self.addHost( 'h1', server='tb1', ip='10.0.0.1/24' )
        h2 = self.addHost( 'h2', server='tb2', ip='10.0.0.2/24' )
        h3 = self.addHost( 'h3', server='tb1', ip='10.0.1.3/24' )
        s1 = self.addSwitch( 's1', server='tb1' )
        self.addLink( h1, h2, cls=SRIOVLink )
        self.addLink( h1, s1, cls=SRIOVLink, params1=dict( ip='10.0.1.1/24' ) )
        self.addLink( h3, s1, cls=SRIOVLink )


net = Mininet( topo=AcrossServers(), switch=LinuxBridge, controller=None )
net.start()
h1, h2, h3 = net.get( 'h1', 'h2', 'h3' )
r = { 'links': [ link.status() for link in net.links ] }
r[ 'across' ] = h1.cmd( 'ping -c 3 -W 3', h2.IP() )
r[ 'within' ] = h1.cmd( 'ping -c 3 -W 3 10.0.1.3' )
net.stop()
print( 'SRIOV ' + json.dumps( r ) )

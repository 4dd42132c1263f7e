"""A network over two servers, as a script writes it (mnkvm run spread.py
--servers tb1,tb2): nodes placed by server=, a host whose switch is on the
other server, a TCLink between the servers, SR-IOV links between two
servers (a VF each on the PFs cabled between them, meeting on the cable on
the link's VLAN) and within one (to a switch there), cmd/sendCmd/popen on a
host there, and a host and link added to the running network. Prints one
line, SPREAD and a JSON object, for the mocha test."""
import json

from mininet.link import TCLink
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo

from mnkvm import SRIOVLink


class Spread( Topo ):
    """s1 (tb1) -- s2 (tb2), 10 Mbit/s; h1, h5 (tb1) and h3 (tb2) on s1;
       h2 on s2; SR-IOV: h1 -- h2 (192.168.9.0/24), h1 and h5 on s3 (tb1,
       192.168.10.0/24)."""
    def build( self ):
        s1 = self.addSwitch( 's1', server='tb1' )
        s2 = self.addSwitch( 's2', server='tb2' )
        h1 = self.addHost( 'h1', server='tb1' )
        h2 = self.addHost( 'h2', server='tb2' )
        h3 = self.addHost( 'h3', server='tb2' )
        h5 = self.addHost( 'h5', server='tb1' )
        self.addLink( h1, s1 )
        self.addLink( h3, s1 )
        self.addLink( h5, s1 )
        self.addLink( h2, s2 )
        self.addLink( s1, s2, cls=TCLink, bw=10 )
        s3 = self.addSwitch( 's3', server='tb1' )
        self.addLink( h1, h2, cls=SRIOVLink,
                      params1=dict( ip='192.168.9.1/24' ),
                      params2=dict( ip='192.168.9.2/24' ) )
        self.addLink( h1, s3, cls=SRIOVLink,
                      params1=dict( ip='192.168.10.1/24' ) )
        self.addLink( h5, s3, cls=SRIOVLink,
                      params1=dict( ip='192.168.10.5/24' ) )


net = Mininet( topo=Spread(), switch=LinuxBridge, controller=None )
net.start()
h1, h2, h3, h5, s1 = net.get( 'h1', 'h2', 'h3', 'h5', 's1' )
r = { 'servers': { node.name: node.server for node in net.values() } }
r[ 'loss' ] = net.pingAll()
r[ 'fullSize' ] = h1.cmd( 'ping -c 1 -W 3 -s 1472 -M do', h2.IP() )
r[ 'cmd' ] = h2.cmd( 'hostname' ).strip()
h2.sendCmd( 'sleep 0.2; hostname' )
r[ 'sendCmd' ] = h2.waitOutput().strip()
r[ 'popen' ] = h3.popen( 'hostname' ).communicate()[ 0 ].decode().strip()
r[ 'sriov' ] = dict(
    links=[ link.status() for link in net.links
            if isinstance( link, SRIOVLink ) ],
    across=h1.cmd( 'ping -c 3 -W 3 192.168.9.2' ),
    within=h1.cmd( 'ping -c 3 -W 3 192.168.10.5' ) )
r[ 'iperf' ] = net.iperf( ( h1, h2 ), seconds=3 )
# a link within a server (h1-h5, both on tb1) against one across (h1-h3)
for pair, peer in ( ( 'within', h5 ), ( 'across', h3 ) ):
    r[ pair ] = dict(
        ping=h1.cmd( 'ping -q -c 20 -i 0.05', peer.IP(), '| tail -1' ).strip(),
        iperf=net.iperf( ( h1, peer ), seconds=3 ) )
h4 = net.addHost( 'h4', server='tb2' )
link = net.addLink( h4, s1 )
# LinuxBridge adds ports in start()
s1.cmd( 'ip link set', link.intf2, 'master s1 up' )
h4.setIP( '10.0.0.4/8' )
r[ 'added' ] = h4.cmd( 'ping -c 2 -W 3', h1.IP() )
net.stop()
print( 'SPREAD ' + json.dumps( r ) )

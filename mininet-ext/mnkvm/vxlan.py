"""Links between nodes on different servers (mnkvm --servers): a VXLAN
tunnel between the two servers' data addresses, its ends named as the
link's interfaces, so that any link class (Link, TCLink, a script's own)
works across servers: recordedMakeIntfPair (kvmhost.py) makes a tunnel
where Mininet would make a veth pair."""

import random

from mnkvm import engine
from mnkvm.engine import MnkvmError

# Each server's data address (set by cluster.spread)
DATA = {}

# UDP port of every tunnel (IANA's VXLAN port); VNIs tell tunnels apart
PORT = 4789


class Vnis( object ):
    """VNIs of this run's tunnels: from a random start, so that two runs'
       tunnels between the same servers never carry each other's frames."""
    last = random.randrange( 1, 1 << 23 )

    @classmethod
    def next( cls ):
        cls.last += 1
        return cls.last


def tunnel( intf1, intf2, addr1, addr2, node1, node2 ):
    """Link node1 and node2 (on different servers) by a VXLAN tunnel: each
       end, claimed and recorded on its server first, is made in the
       server's root namespace (its UDP socket lives there), with the MTU
       of a veth (the data network carries the 50 bytes more), and then
       moved into the node's namespace."""
    vni = Vnis.next()
    ends = ( ( intf1, addr1, node1, node2 ), ( intf2, addr2, node2, node1 ) )
    for intf, addr, node, peer in ends:
        engine.recordIntf( intf, server=node.server )
        made = node.rcmd(
            'ip link add name %s %s type vxlan id %d local %s remote %s '
            'dstport %d && ip link set %s mtu 1500 && echo mnkvm-made' % (
                intf, 'address %s' % addr if addr else '', vni,
                DATA[ node.server ], DATA[ peer.server ], PORT, intf ) )
        if 'mnkvm-made' not in made:
            engine.releaseIntf( intf, server=node.server )
            raise MnkvmError( '%s: the VXLAN tunnel end %s (VNI %d, to %s) '
                              'could not be made: %s' % (
                                  node.server, intf, vni, peer.server,
                                  made.strip() ) )
        if node.inNamespace:
            moved = node.rcmd( 'ip link set %s netns %s && echo mnkvm-made'
                               % ( intf, node.pid ) )
            if 'mnkvm-made' not in moved:
                raise MnkvmError( '%s: %s could not be moved into %s: %s' % (
                    node.server, intf, node.name, moved.strip() ) )

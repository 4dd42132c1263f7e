"""Networks over several servers (`mnkvm --servers tb1,tb2`): Mininet's
cluster edition (mininet/examples/cluster.py, as Debian ships it), with
mnkvm's rules:
- every network is an MnkvmCluster: MininetCluster's placement (its
  placers, by the names --placement takes; a node's own server= first),
  with the run's ssh_config (one shared SSH connection per server) and
  no precheck of its own (mnkvm's preflight ran before Python started);
- the script's own host, switch and link classes are kept: each node class
  is made remote with RemoteMixin, and a link between two servers is a
  VXLAN tunnel (vxlan.py), whatever the link class;
- what a node makes on a server is claimed and recorded in that server's
  record of the run (each server sweeps it when the run ends), and a
  node's shell here is its ssh process, recorded by pid."""

from mininet.examples.cluster import ( HostSwitchBinPlacer, MininetCluster,
                                       RandomPlacer, RemoteHost, RemoteLink,
                                       RoundRobinPlacer, SwitchBinPlacer )
from mininet.link import Link
from mininet.log import info, output, warn
from mininet.net import Mininet
from mininet.nodelib import NAT, LinuxBridge
from mininet.node import Host, OVSSwitch

from mnkvm import engine, vxlan
from mnkvm.engine import MnkvmError
from mnkvm.kvmhost import KVMHost
from mnkvm.net import MnkvmNet, rootNames, stockReplaced
from mnkvm.servernode import ServerNode, onServers, serverOf

# --placement's names for Mininet's placers
PLACERS = dict( switchbin=SwitchBinPlacer, hostswitchbin=HostSwitchBinPlacer,
                roundrobin=RoundRobinPlacer, random=RandomPlacer )

class OwnServerFirst( object ):
    """A placer for MininetCluster.placeNodes that gives placer only the
       hosts without a server= of their own: Mininet's placers are handed
       every node, and SwitchBinPlacer refuses a host with no switch even
       where it has server= (as on an SR-IOV link to a host on another
       server). Nodes with server= keep it (placeNodes' setdefault)."""

    def __init__( self, placer ):
        self.placer = placer
        self.topo = None   # set by MnkvmCluster.placeNodes

    def __call__( self, servers, nodes, hosts, switches, links ):
        own = { h for h in hosts if self.topo.nodeInfo( h ).get( 'server' ) }
        unplaced = [ n for n in nodes if n not in own ]
        self.inner = self.placer(
            servers=servers, nodes=unplaced,
            hosts=[ h for h in hosts if h not in own ], switches=switches,
            links=[ l for l in links if not own.intersection( l ) ] )
        self.own = own
        return self

    def place( self, node ):
        "node's server (None for one with its own: placeNodes keeps that)."
        return None if node in self.own else self.inner.place( node )


class MnkvmCluster( MnkvmNet, MininetCluster ):
    """MnkvmNet over the run's servers (see module docstring).
       servers: what the engine says of them (name, alias, user, data)."""

    servers = None   # engine.servers()'s answer, set by spread()

    def __init__( self, *args, **params ):
        answer = self.servers
        self.serverInfo = { s[ 'name' ]: s for s in answer[ 'servers' ] }
        self.replacedLinks = set()
        ServerNode.sshbase = [ 'ssh', '-F', answer[ 'sshConfig' ], '-q',
                               '-o', 'BatchMode=yes', '-tt' ]
        # where the script names none: `mnkvm run --switch`'s class, else
        # Linux bridges (not the cluster edition's RemoteOVSSwitch, which
        # needs a controller it reaches), and Mininet's Link (not its
        # RemoteLink's ssh tunnels: recordedMakeIntfPair makes VXLAN ones)
        for position, key, cls in ( ( 1, 'switch', LinuxBridge ),
                                    ( 4, 'link', Link ) ):
            if len( args ) <= position:
                params.setdefault( key, self.defaults.get( key, cls ) )
        params.update( servers=list( self.serverInfo ), precheck=False,
                       placement=OwnServerFirst(
                           PLACERS[ answer[ 'placement' ] ] ),
                       serverIP={ name: s[ 'alias' ] for name, s in
                                  self.serverInfo.items() } )
        super().__init__( *args, **params )

    def placeNodes( self ):
        """MininetCluster's placement, after checking the servers nodes
           name; then every name of a root namespace is claimed on its
           server before anything is built."""
        if not self.topo:
            return
        for node in self.topo.nodes():
            self.checkServer( node, self.topo.nodeInfo( node ) )
        info( '*** Placing nodes\n' )
        self.placement.topo = self.topo
        try:
            MininetCluster.placeNodes( self )
        except Exception as e:   # SwitchBinPlacer's, for a host with no switch
            raise MnkvmError( '%s: give the host server=, or choose another '
                              '--placement (roundrobin)' % e ) from None
        info( '\n' )
        byServer = {}
        for name in rootNames( self.topo, self.inNamespace ):
            node = name.split( '-eth' )[ 0 ]
            server = self.topo.nodeInfo( node )[ 'server' ]
            byServer.setdefault( server, [] ).append( name )
        for server, names in byServer.items():
            engine.claimNames( 'link', names, server=server )

    def buildFromTopo( self, topo=None ):
        "MininetCluster's (names are claimed per server: placeNodes)."
        self.placeNodes()
        Mininet.buildFromTopo( self, topo )

    def checkServer( self, name, params ):
        "A node's server= must be one of the run's."
        server = params.get( 'server' )
        if server is not None and server not in self.serverInfo:
            raise MnkvmError(
                '%s: server=%s is not one of the servers of this run (%s): '
                'name one of those, or add it to --servers' % (
                    name, server, ', '.join( self.serverInfo ) ) )

    def placed( self, name, params ):
        """params, with name's server and how to reach it; a node no placer
           placed (added outside a Topo, without server=) goes on the
           first server."""
        self.checkServer( name, params )
        server = self.serverInfo[ params.setdefault(
            'server', next( iter( self.serverInfo ) ) ) ]
        params.setdefault( 'serverIP', server[ 'alias' ] )
        params.setdefault( 'user', server[ 'user' ] )
        return params

    def addHost( self, name, cls=None, **params ):
        """Mininet's addHost, on the node's server: a KVM host takes its
           server itself (its namespace there, its guest under the server's
           libvirtd); any other class is made remote."""
        cls = cls or self.host
        if cls in ( Host, RemoteHost ) and self.hostClass:
            # `mnkvm run --host`'s class, for Mininet's host and the cluster
            # edition's default (Host.__new__ would not see the remote
            # class made of either below as a Host)
            cls = self.hostClass
        if isinstance( cls, type ) and issubclass( cls, NAT ):
            raise MnkvmError(
                '%s: a NAT on servers (--nat with --servers) is not there '
                'yet: leave --nat out' % name )
        isKvm = isinstance( cls, type ) and issubclass( cls, KVMHost )
        return super().addHost( name, cls=cls if isKvm else onServers( cls ),
                                **self.placed( name, params ) )

    def addSwitch( self, name, cls=None, **params ):
        params = self.placed( name, params )
        if not params.get( 'inNamespace', self.inNamespace ):
            engine.claimNames( 'link', [ name ], server=params[ 'server' ] )
        switch = Mininet.addSwitch( self, name,
                                    cls=onServers( stockReplaced(
                                        'switch', cls or self.switch ) ),
                                    **params )
        self.record( switch )
        return switch

    def addLink( self, node1, node2, port1=None, port2=None, cls=None,
                 **params ):
        """Mininet's addLink; the cluster edition's own links (RemoteLink,
           RemoteGRELink: ssh or GRE tunnels nothing records) become
           Mininet's Link, linked across servers by VXLAN as any link is."""
        cls = self.link if cls is None else cls
        if isinstance( cls, type ) and issubclass( cls, RemoteLink ):
            if cls not in self.replacedLinks:
                warn( '*** mnkvm: links between servers are VXLAN tunnels '
                      'here, not %s\'s\n' % cls.__name__ )
                self.replacedLinks.add( cls )
            cls = Link
        return super().addLink( node1, node2, port1, port2, cls=cls,
                                **params )

    def addController( self, name='c0', controller=None, **params ):
        """A controller runs here, as Mininet's (not MininetCluster's, which
           looks for a route to servers by their ssh names)."""
        controller = Mininet.addController( self, name, controller, **params )
        self.record( controller )
        return controller

    def record( self, node ):
        """MnkvmNet.record; a node on a server: its shell here is its ssh
           process (its end ends the shell there), its bridge is in the
           server's record."""
        server = serverOf( node )
        if server is None or isinstance( node, KVMHost ):
            MnkvmNet.record( node )
            return
        engine.recordShell( node.name, node.shell.pid )
        if node.inNamespace:
            return
        if isinstance( node, LinuxBridge ):
            engine.recordBridge( node.name, server=server )
        elif isinstance( node, OVSSwitch ):
            engine.recordOvsBridge( node.name, server=server )

    def dumpServers( self ):
        "A line per server: the nodes that run there."
        for server in self.serverInfo:
            names = [ node.name for node in self.values()
                      if getattr( node, 'server', None ) == server ]
            output( '%s: %s\n' % ( server, ' '.join( names ) ) )


def spread():
    """MnkvmCluster, over the run's servers, where it has some (--servers);
       else None."""
    answer = engine.servers()
    if not answer:
        return None
    MnkvmCluster.servers = answer
    vxlan.DATA.update( { s[ 'name' ]: s[ 'data' ]
                         for s in answer[ 'servers' ] } )
    return MnkvmCluster

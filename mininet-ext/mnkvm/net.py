"""MnkvmNet: Mininet that records what it creates.

Every node shell and bridge is recorded with the engine as soon as it
exists (root-namespace interfaces are recorded by recordedMakeIntfPair),
so that mnkvm can remove a network after an
error, a signal or a SIGKILL (`mnkvm -c`) by pid and by name, without
Mininet's cleanup(), which kills every process that matches `mininet:`.
Names of the root namespace (bridges, their interfaces) and cgroups are
claimed before they are made: a run never removes what another run made.

install() makes every network a script builds one of these, whatever
name it reached Mininet by (TreeNet, a module that imported Mininet before
mnkvm ran, a subclass of the script's own)."""

import functools
import logging
import os
import shlex

import mininet.clean
from mininet.cli import CLI
from mininet.log import error, lg, output
from mininet.net import Mininet, MininetWithControlNet
from mininet.node import ( Controller, CPULimitedHost, DefaultController,
                           Host, IVSSwitch, Node, NOX, OVSController,
                           OVSSwitch, Ryu, Switch, UserSwitch )
from mininet.nodelib import NAT, LinuxBridge

from mnkvm import engine
from mnkvm.engine import MnkvmError
from mnkvm.kvmhost import KVMHost, say


# Mininet's stock OpenFlow switches and local controllers: a script that
# names them asks for "the usual", which `mnkvm run --switch/--controller`
# replaces (they need Open vSwitch's kernel module, ofdatapath, or a
# `controller` binary). A RemoteController is the script's own choice.
STOCK = dict( switch=( OVSSwitch, UserSwitch, IVSSwitch ),
              controller=( DefaultController, Controller, OVSController,
                           NOX, Ryu ) )

# Seconds to wait for switches to connect where Mininet would wait forever
CONNECT_TIMEOUT = 60


class NoController( object ):
    """What `--controller none` gives a script that adds a controller
       itself (c1 = net.addController( 'c1' ), then c1.start()): a
       stand-in that does nothing. It is false, so Mininet does not count it
       as a controller."""

    def __init__( self, name='c0', *_args, **_params ):
        self.name = name

    def __bool__( self ):
        return False

    def __repr__( self ):
        return '<NoController %s>' % self.name

    def start( self ):
        "Nothing to start."

    def stop( self, *_args, **_kwargs ):
        "Nothing to stop."


class MnkvmNet( Mininet ):
    """Mininet, with every resource recorded (see module docstring); a
       link added to a running network joins its switch."""

    # Set by `mnkvm run`: { 'switch': cls, 'controller': cls }, what
    # Mininet's default and stock ones are made of (see install)
    defaults = {}
    # `mnkvm run --host`'s class: what a Host is made of (see install)
    hostClass = None
    # Started and not yet stopped
    running = False

    def __init__( self, *args, **params ):
        """Mininet's; switch= and controller= left out (None) or naming
           Mininet's default or stock one are `mnkvm run`'s. (Mininet's
           default controller is a function, so it is replaced here, not
           where it is made, as a stock class made elsewhere is: install.)"""
        args = list( args )
        # Mininet( topo, switch, host, controller, ... ): positions 1 and 3
        for position, key in ( ( 1, 'switch' ), ( 3, 'controller' ) ):
            if key not in self.defaults:
                continue
            given = ( args[ position ] if position < len( args )
                      else params.get( key ) )
            made = ( self.defaults[ key ] if given is None
                     else stockReplaced( key, given ) )
            if position < len( args ):
                args[ position ] = made
            else:
                params[ key ] = made
        super().__init__( *args, **params )

    def buildFromTopo( self, topo=None ):
        """Mininet's, once every name the topology takes in the root
           namespace is claimed: a clash is one line before anything is
           built."""
        engine.claimNames( 'link', rootNames( topo, self.inNamespace ) )
        super().buildFromTopo( topo )

    def addHost( self, name, cls=None, **params ):
        if cls is NAT:
            cls = MnkvmNAT
        host = super().addHost( name, cls=cls, **params )
        self.record( host )
        return host

    def addSwitch( self, name, cls=None, **params ):
        if not params.get( 'inNamespace', self.inNamespace ):
            engine.claimNames( 'link', [ name ] )
        switch = super().addSwitch( name, cls=cls, **params )
        self.record( switch )
        return switch

    def addController( self, name='c0', controller=None, **params ):
        controller = super().addController( name, controller, **params )
        self.record( controller )
        return controller

    def start( self ):
        """Mininet.start, refused in one line where a switch could never
           forward: an OpenFlow switch in secure fail mode with no
           controller (Mininet would wait for it forever)."""
        if not self.built:
            self.build()
        if not self.controllers:
            for switch in self.switches:
                if getattr( switch, 'failMode', None ) == 'secure':
                    raise MnkvmError(
                        '%s is an Open vSwitch switch (%s) in secure fail '
                        'mode and the network has no controller, so it '
                        'would never forward: give it a controller, or '
                        "failMode='standalone' (--switch ovs,failMode="
                        'standalone), or use --switch lxbr' %
                        ( switch.name, type( switch ).__name__ ) )
        super().start()
        self.running = True

    def addLink( self, node1, node2, *args, **params ):
        """Mininet's addLink; on a running network, a switch's new port
           joins the switch, as Containernet's runtime links do (Mininet
           leaves it to the script)."""
        link = super().addLink( node1, node2, *args, **params )
        for intf in ( link.intf1, link.intf2 ) if self.running else ():
            if intf.node in self.switches:
                joinSwitch( intf.node, intf )
        return link

    def waitConnected( self, timeout=None, delay=.5 ):
        """Mininet's, with a bound where Mininet would wait forever
           (timeout None or True): it then warns and goes on."""
        if timeout is None or timeout is True:
            timeout = CONNECT_TIMEOUT
        return super().waitConnected( timeout, delay )

    def stop( self ):
        """Mininet.stop, with every KVM host's guest stopped first, all at
           once: Mininet's own order would send each link's `ip link del`
           to a guest, one round trip per link, to no effect."""
        self.running = False
        for host in self.hosts:
            if isinstance( host, KVMHost ):
                host.stopGuest()
        super().stop()

    @staticmethod
    def record( node ):
        "Record node's shell (KVM hosts record their own) and its bridge."
        if not isinstance( node, Node ) or isinstance( node, KVMHost ):
            return
        engine.recordShell( node.name, node.pid )
        if node.inNamespace:
            return   # its bridge goes with its namespace
        if isinstance( node, LinuxBridge ):
            engine.recordBridge( node.name )
        elif isinstance( node, OVSSwitch ):
            engine.recordOvsBridge( node.name )


def joinSwitch( switch, intf ):
    """Join intf, a new port of a running switch, to it: attach() where the
       switch has one (Open vSwitch, the user switch), else, as the bridge
       of a LinuxBridge, its master."""
    if hasattr( switch, 'attach' ):
        switch.attach( intf )
    elif isinstance( switch, LinuxBridge ):
        switch.cmd( 'ip link set', intf, 'master', switch, 'up' )


def rootNames( topo, switchesInNamespace ):
    """The names topo's network takes in the root namespace: the switches
       there (their bridges) and their ends of links (Mininet names an
       interface NODE-ethPORT)."""
    inRoot = { name: not topo.nodeInfo( name ).get(
        'inNamespace', switchesInNamespace if topo.isSwitch( name ) else True )
        for name in topo.nodes() }
    names = [ name for name in topo.switches() if inRoot[ name ] ]
    for src, dst, info in topo.links( withInfo=True ):
        for node, port in ( ( src, info.get( 'port1' ) ),
                            ( dst, info.get( 'port2' ) ) ):
            if inRoot[ node ] and port is not None:
                names.append( '%s-eth%d' % ( node, port ) )
    return names


class MnkvmControlNet( MnkvmNet, MininetWithControlNet ):
    """mn --innamespace: switches and controllers in namespaces of their
       own, recorded. Without a controller (Linux bridges need none) there
       is no control network to build."""

    def configureControlNetwork( self ):
        if self.controllers:
            MininetWithControlNet.configureControlNetwork( self )


class MnkvmNAT( NAT ):
    """mn --nat: Mininet's NAT, except that it adds the "iface ... manual"
       line that keeps network managers off its interface only to an
       /etc/network/interfaces that exists (a file made for it would
       outlive the run), and that its iptables rules and the forwarding
       setting it changes are recorded, so that mnkvm can undo them
       whatever ends the run."""

    def setManualConfig( self, intf ):
        if os.path.exists( '/etc/network/interfaces' ):
            NAT.setManualConfig( self, intf )

    def config( self, **params ):
        engine.recordSysctl( 'net.ipv4.ip_forward', self.forwardState )
        return NAT.config( self, **params )

    def cmd( self, *args, **kwargs ):
        "Node.cmd; a rule about to be added with iptables -A/-I is recorded."
        line = ' '.join( str( a ) for a in args )
        # (only iptables lines are split: any other may not be shell words)
        words = shlex.split( line ) if line.startswith( 'iptables ' ) else []
        if '-A' in words or '-I' in words:
            engine.recordRule( words[ 1: ] )
        return NAT.cmd( self, *args, **kwargs )


class BridgeNetfilterLine( logging.Filter ):
    """Mininet's three warnings that a Linux bridge "may not work with
       net.bridge.bridge-nf-call-...", as mnkvm's one line that says what
       it costs and how to turn it off (src/engine/netfilter.ts)."""

    said = False

    def filter( self, record ):
        if not str( record.msg ).startswith(
                'Warning: Linux bridge may not work with' ):
            return True
        if not self.said:
            self.said = True
            notice = engine.bridgeNetfilterNotice()
            if notice:
                say( [ { 'level': 'warn',
                         'line': '*** mnkvm: %s' % notice } ] )
        return False


# (in every mnkvm session: scripts, mn's options, the API, the benchmark)
lg.addFilter( BridgeNetfilterLine() )


def install( host=None, switch=None, controller=None, spread=None ):
    """Make mnkvm's rules apply to whatever a script builds, through the
       hooks Python calls when Mininet makes a network or a host:
       - every network is an MnkvmNet (Mininet, MininetWithControlNet, or a
         subclass of them), whatever name the script reached it by;
       - `mnkvm run --host`: wherever a host of Mininet's default class
         Host is made, implied or named (Mininet() without host=, addHost()
         without cls=, host=Host, cls=Host, Host( 'h1' ) by hand), a host
         is made of this class instead. Subclasses of Host (CPULimitedHost,
         the script's own) are kept;
       - a CPULimitedHost's cgroups are claimed and recorded before it
         makes them;
       - --switch and --controller: wherever a switch or controller of
         Mininet's stock classes is made, in a network (its default, or
         named) or by hand, one of these is made instead (a NoController
         for --controller none);
       - Mininet's cleanup() (which kills by name) does nothing;
       - spread (MnkvmCluster, for --servers): every network is one of
         these, over the run's servers."""
    MnkvmNet.defaults = { key: cls for key, cls in (
        ( 'switch', switch ), ( 'controller', controller ) ) if cls }
    MnkvmNet.hostClass = host

    def newNet( klass, *_args, **_params ):
        return object.__new__( klass if issubclass( klass, MnkvmNet )
                               else recordedClass( klass, spread ) )

    def newHost( klass, name=None, *_args, **_params ):
        if klass is Host and host:
            klass = host
        if issubclass( klass, CPULimitedHost ) and name:
            engine.recordCgroup( str( name ) )
        return object.__new__( klass )

    def replacing( key ):
        "__new__ for key's classes: a stock one is made of the default."
        def new( klass, *args, **params ):
            made = stockReplaced( key, klass )
            if made is not klass:
                # (not a klass: Python then does not call klass.__init__)
                return made( *args, **params )
            return object.__new__( klass )
        return staticmethod( new )

    Mininet.__new__ = staticmethod( newNet )
    Host.__new__ = staticmethod( newHost )
    Switch.__new__ = replacing( 'switch' )
    Controller.__new__ = replacing( 'controller' )
    # Scripts import cleanup when they run, after this
    mininet.clean.Cleanup.cleanup = classmethod( lambda _cls: noCleanup() )
    mininet.clean.cleanup = mininet.clean.Cleanup.cleanup


def stockReplaced( key, cls ):
    """cls (a switch or controller class, key says which), or what `mnkvm
       run --switch/--controller` makes where cls is one of Mininet's stock
       classes."""
    default = MnkvmNet.defaults.get( key )
    return default if default and cls in STOCK[ key ] else cls


@functools.lru_cache( maxsize=None )
def recordedClass( klass, spread=None ):
    """klass, with MnkvmNet's records and rules (or spread's, a subclass of
       MnkvmNet): a subclass of both."""
    base = spread or ( MnkvmControlNet if issubclass(
        klass, MininetWithControlNet ) else MnkvmNet )
    return type( klass.__name__, ( base, klass ),
                 dict( __module__=klass.__module__, __doc__=klass.__doc__ ) )


def noCleanup():
    "What Mininet's cleanup() (mn -c) does under mnkvm: nothing, and why."
    error( "*** mnkvm never runs Mininet's cleanup (it kills by name): "
           'mnkvm removes what its runs made (`mnkvm -c`)\n' )


class MnkvmCLI( CLI ):
    """Mininet's CLI. Ctrl-C while a command runs interrupts it, as in mn;
       Ctrl-C at an idle prompt leaves the CLI, so the network stops; net
       also says where nodes run (MnkvmCluster)."""

    def do_net( self, line ):
        """Mininet's net; over several servers, a line per server says which
           nodes run there."""
        CLI.do_net( self, line )
        dumpServers = getattr( self.mn, 'dumpServers', None )
        if dumpServers:
            dumpServers()

    def cmdloop( self, intro=None ):
        try:
            return CLI.cmdloop( self, intro )
        except KeyboardInterrupt:
            if any( node.waiting for node in self.mn.values() ):
                raise
            output( '\n' )
            return None

"""MnkvmNet: Mininet that records what it creates.

Every node shell and bridge is recorded with the engine as soon as it
exists (root-namespace interfaces are recorded by recordedMakeIntfPair),
so that mnkvm can remove a network after an
error, a signal or a SIGKILL (`mnkvm -c`) by pid and by name, without
Mininet's cleanup(), which kills every process that matches `mininet:`."""

import json
import os
import shlex

from mininet.cli import CLI
from mininet.log import output
from mininet.net import Mininet, MininetWithControlNet
from mininet.node import Controller, DefaultController, Host, Node, OVSSwitch
from mininet.nodelib import NAT, LinuxBridge

from mnkvm import engine
from mnkvm.kvmhost import KVMHost


# Mininet's stock switch and controllers: a script that names them asks for
# "the usual", which `mnkvm run --switch/--controller` replaces (the stock
# ones need Open vSwitch's kernel module and a `controller` binary).
STOCK = dict( switch=( OVSSwitch, ), controller=( DefaultController,
                                                   Controller ) )


class MnkvmNet( Mininet ):
    """Mininet, with every resource recorded (see module docstring), and
       `mnkvm run`'s --switch/--controller classes wherever the script
       leaves Mininet's default (no switch=, controller=) or names
       Mininet's stock class."""

    # Set by `mnkvm run`: { 'switch': cls, 'controller': cls }
    defaults = {}

    def __init__( self, *args, **params ):
        args = list( args )
        # Mininet( topo, switch, host, controller, ... ): positions 0..3
        # (the host class is replaced where it is made: see useHostClass)
        for position, key in enumerate( ( 'topo', 'switch', 'host',
                                          'controller' ) ):
            if key not in self.defaults:
                continue
            given = ( args[ position ] if position < len( args )
                      else params.get( key ) )
            if given is None or given in STOCK.get( key, () ):
                if position < len( args ):
                    args[ position ] = self.defaults[ key ]
                else:
                    params[ key ] = self.defaults[ key ]
        super().__init__( *args, **params )

    def addHost( self, name, cls=None, **params ):
        if cls is NAT:
            cls = MnkvmNAT
        host = super().addHost( name, cls=cls, **params )
        self.record( host )
        return host

    def addSwitch( self, name, cls=None, **params ):
        switch = super().addSwitch( name, cls=cls, **params )
        self.record( switch )
        return switch

    def addController( self, name='c0', controller=None, **params ):
        controller = super().addController( name, controller, **params )
        self.record( controller )
        return controller

    def stop( self ):
        """Mininet.stop, with every KVM host's guest stopped first, all at
           once: Mininet's own order would send each link's `ip link del`
           to a guest, one round trip per link, to no effect."""
        for host in self.hosts:
            if isinstance( host, KVMHost ):
                host.stopGuest()
        super().stop()

    @staticmethod
    def record( node ):
        "Record node's shell (KVM hosts record their own) and its bridge."
        if not isinstance( node, Node ) or isinstance( node, KVMHost ):
            return
        engine.call( 'recordShell', node.name, node.pid )
        if node.inNamespace:
            return   # its bridge goes with its namespace
        if isinstance( node, LinuxBridge ):
            engine.call( 'recordBridge', node.name )
        elif isinstance( node, OVSSwitch ):
            engine.call( 'recordOvsBridge', node.name )


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
        engine.call( 'recordSysctl', 'net.ipv4.ip_forward', self.forwardState )
        return NAT.config( self, **params )

    def cmd( self, *args, **kwargs ):
        "Node.cmd; a rule about to be added with iptables -A/-I is recorded."
        line = ' '.join( str( a ) for a in args )
        # (only iptables lines are split: any other may not be shell words)
        words = shlex.split( line ) if line.startswith( 'iptables ' ) else []
        if '-A' in words or '-I' in words:
            engine.call( 'recordRule', json.dumps( words[ 1: ] ) )
        return NAT.cmd( self, *args, **kwargs )


def useHostClass( cls ):
    """`mnkvm run --host`: wherever a script makes a host of Mininet's
       default class Host, implied or named (Mininet() without host=,
       addHost() without cls=, host=Host, cls=Host, Host( 'h1' ) by hand),
       make a cls instead. Subclasses of Host (CPULimitedHost, the script's
       own) are untouched."""
    def new( klass, *_args, **_params ):
        return object.__new__( cls if klass is Host else klass )
    Host.__new__ = staticmethod( new )


class MnkvmCLI( CLI ):
    """Mininet's CLI. Ctrl-C while a command runs interrupts it, as in mn;
       Ctrl-C at an idle prompt leaves the CLI, so the network stops."""

    def cmdloop( self, intro=None ):
        try:
            return CLI.cmdloop( self, intro )
        except KeyboardInterrupt:
            if any( node.waiting for node in self.mn.values() ):
                raise
            output( '\n' )
            return None

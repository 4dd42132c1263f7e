"""What mnkvm's TypeScript API (src/api) calls: small functions taking JSON,
so that TypeScript never has to build Python keyword arguments (the list
and its types: src/api/python.ts). Every method of Mininet's objects that
TypeScript has is one call: call() runs Mininet's own method, by name, on
the network or the node, interface or link TypeScript names; arguments and
results cross as JSON, a node, interface or link as a reference by name
(ref(), encode()). An exception one raises is kept as a record (kind,
message, details) that TypeScript fetches with lastError(): errors cross
typed, not as traceback text to match."""

import functools
import json
import logging
import signal
import traceback
from subprocess import STDOUT
from time import perf_counter

from mininet.link import Intf, Link, TCIntf
from mininet.log import LEVELS, lg
from mininet.node import Controller, Node, Switch
from mininet.topo import Topo
from mininet.util import pmonitor as mininetPmonitor

from mnkvm import containernet
from mnkvm.cluster import spread
from mnkvm.containernet.node import Docker
from mnkvm.engine import MnkvmError
from mnkvm.mn import customClasses, mnModule
from mnkvm.net import MnkvmCLI, MnkvmNet, install

# Hosts' cgroups recorded, Mininet's cleanup() harmless, as under `mnkvm run`
install()

_lastError = None

# Mininet's log levels by number: what a log event says its level is
LEVELNAMES = { number: name for name, number in LEVELS.items()
               if name != 'warn' }


def reported( fn ):
    "An API function: an exception it raises is kept for lastError()."
    @functools.wraps( fn )
    def wrapper( *args ):
        global _lastError  # pylint: disable=global-statement
        try:
            return fn( *args )
        except BaseException as e:
            _lastError = errorRecord( e )
            raise
    return wrapper


def errorRecord( e ):
    "An exception as the record src/engine/errors.ts defines."
    if isinstance( e, MnkvmError ):
        return { 'kind': e.kind, 'message': str( e ), 'details': e.details }
    return { 'kind': 'mininet', 'message': str( e ) or type( e ).__name__,
             'details': { 'pythonType': type( e ).__name__,
                          'traceback': traceback.format_exc() } }


def lastError():
    "The record of the last API function's exception (JSON), once."
    global _lastError  # pylint: disable=global-statement
    record, _lastError = _lastError, None
    return json.dumps( record )


# Options as TypeScript gives them (src/api/params.ts) -> Mininet's params

def classOf( key, opts ):
    """opts without its kind, and the class that kind names (mn's syntax:
       'kvm,mem=256', 'lxbr', 'tc', 'sriov'; 'docker': a Docker host), or
       None where opts names none."""
    opts = dict( opts )
    kind = opts.pop( 'kind', None )
    if not kind:
        return opts, None
    if key == 'host' and kind == 'docker':
        return dockerParams( opts ), Docker
    return opts, customClasses( { key: kind } )[ key ]


def dockerParams( opts ):
    """A Docker host's options, each port_bindings' [ ADDRESS, PORT ] as
       the tuple Docker takes (JSON has no tuples)."""
    def binding( value ):
        if isinstance( value, list ) and value and isinstance(
                value[ 0 ], str ):
            return tuple( value )
        if isinstance( value, list ):
            return [ binding( v ) for v in value ]
        return value
    bindings = opts.get( 'port_bindings' )
    if bindings:
        opts = dict( opts, port_bindings={ port: binding( value ) for
                                           port, value in bindings.items() } )
    return opts


def hostParams( opts ):
    "TypeScript host options -> Mininet's addHost parameters."
    opts, cls = classOf( 'host', opts )
    if cls:
        opts[ 'cls' ] = cls
    return opts


def topology( spec ):
    """A Topo from 'single,2' (mn's --topo syntax) or what src/api/topo.ts's
       Topo gives: its nodes (name, info) and links (node1, node2, key,
       info with the ports it chose)."""
    if isinstance( spec, str ):
        mn = mnModule()
        return mn.buildTopo( mn.TOPOS, spec )
    topo = Topo()
    for name, info in spec[ 'nodes' ]:
        if info.get( 'isSwitch' ):
            opts, cls = classOf( 'switch', info )
            topo.addNode( name, **( dict( opts, cls=cls ) if cls else opts ) )
        else:
            topo.addNode( name, **hostParams( info ) )
    for node1, node2, key, info in spec[ 'links' ]:
        opts, cls = classOf( 'link', info )
        for given in ( 'node1', 'node2', 'port1', 'port2' ):
            opts.pop( given, None )
        if cls:
            opts[ 'cls' ] = cls
        topo.addLink( node1, node2, info.get( 'port1' ), info.get( 'port2' ),
                      key, **opts )
    return topo


# Nodes, interfaces and links as they cross: { '$node': name },
# { '$intf': [ node, name ] }, { '$link': [ node, intf ] } from TypeScript;
# encode()'s descriptions back (src/api/remote.ts makes objects of them)

def nodeNamed( net, name ):
    "The node called name, or the one line that says there is none."
    if name not in net:
        raise MnkvmError( 'no node named %s in this network' % name )
    return net[ name ]


def intfNamed( net, nodeName, name ):
    "Node nodeName's interface called name, or one line."
    node = nodeNamed( net, nodeName )
    if name not in node.nameToIntf:
        raise MnkvmError( '%s has no interface named %s: it has %s' % (
            nodeName, name, ', '.join( node.intfNames() ) or 'none' ) )
    return node.nameToIntf[ name ]


def decode( net, value ):
    "value, with TypeScript's references to nodes, intfs, links resolved."
    if isinstance( value, list ):
        return [ decode( net, v ) for v in value ]
    if not isinstance( value, dict ):
        return value
    if '$node' in value:
        return nodeNamed( net, value[ '$node' ] )
    if '$intf' in value:
        return intfNamed( net, *value[ '$intf' ] )
    if '$link' in value:
        intf = intfNamed( net, *value[ '$link' ] )
        if intf.link is None:
            raise MnkvmError( '%s is not on a link' % intf.name )
        return intf.link
    return { k: decode( net, v ) for k, v in value.items() }


def role( node ):
    "What TypeScript makes of node: a Host, Docker, Switch or Controller."
    if isinstance( node, Docker ):
        return 'docker'
    if isinstance( node, Controller ):
        return 'controller'
    return 'switch' if isinstance( node, Switch ) else 'host'


def nodeInfo( node ):
    return { 'name': node.name, 'role': role( node ),
             'cls': type( node ).__name__ }


def intfInfo( intf ):
    return { 'name': intf.name, 'node': nodeInfo( intf.node ),
             'cls': type( intf ).__name__,
             'tc': isinstance( intf, TCIntf ) }


def encode( value ):
    "value as JSON can hold it, nodes, intfs and links described."
    if isinstance( value, Node ):
        return { '$node': nodeInfo( value ) }
    if isinstance( value, Intf ):
        return { '$intf': intfInfo( value ) }
    if isinstance( value, Link ):
        return { '$link': { 'cls': type( value ).__name__,
                            'intf1': intfInfo( value.intf1 ),
                            'intf2': intfInfo( value.intf2 ) } }
    if isinstance( value, ( list, tuple ) ):
        return [ encode( v ) for v in value ]
    if isinstance( value, dict ):
        return { str( k ): encode( v ) for k, v in value.items() }
    if value is None or isinstance( value, ( str, int, float, bool ) ):
        return value
    # (a controller that is none: mnkvm's NoController is false)
    return None if not value else str( value )


# The network

class Progress( logging.Handler ):
    """Mininet's log, as mn would print it, to the TypeScript program: each
       piece Mininet writes (it writes some lines in pieces: '*** Adding
       hosts:\\n', 'h1 ', 'h2 '), and mnkvm's notices (kvmhost.say), as
       JSON events (src/api/progress.ts), to listener.event()."""

    def __init__( self, listener ):
        logging.Handler.__init__( self, logging.INFO )
        self.listener = listener

    def emit( self, record ):
        notice = getattr( record, 'notice', None )
        event = ( dict( kind='notice', level=notice[ 'level' ],
                        line=notice[ 'line' ] ) if notice else
                  dict( kind='log', level=LEVELNAMES.get(
                      record.levelno, 'info' ), text=record.getMessage() ) )
        try:
            self.listener.event( json.dumps( event ) )
        except Exception:  # pylint: disable=broad-except
            # (logging's way: a line on stderr; Mininet's work goes on)
            self.handleError( record )


def showProgress( listener, level ):
    """Mininet's log at level (Mininet's setLogLevel; None: its default) on
       stderr, and from info up to listener (a TypeScript object)."""
    for handler in [ h for h in lg.handlers if isinstance( h, Progress ) ]:
        lg.removeHandler( handler )
    lg.setLogLevel( level )
    lg.setLevel( min( lg.level, logging.INFO ) )
    lg.addHandler( Progress( listener ) )


NETPARAMS = ( 'ipBase', 'inNamespace', 'autoSetMacs', 'autoStaticArp',
              'autoPinCpus', 'listenPort', 'waitConnected', 'xterms' )


@reported
def build( specJson, progress ):
    """Build a network (not started): { topo, host, switch, controller,
       link, images, logLevel, and Mininet's own parameters (NETPARAMS) };
       over the run's servers where it has some (Mininet.start's servers).
       progress: the object whose event() takes each log event."""
    spec = json.loads( specJson )
    showProgress( progress, spec.get( 'logLevel' ) )
    containernet.install( spec.get( 'images' ) or {} )
    net = ( spread() or MnkvmNet )(
        topo=topology( spec[ 'topo' ] ) if spec.get( 'topo' ) else None,
        **customClasses( { k: spec.get( k ) for k in (
            'host', 'switch', 'controller', 'link' ) } ),
        **{ k: spec[ k ] for k in NETPARAMS if k in spec } )
    return net


@reported
def stop( net ):
    net.stop()


def targetOf( net, targetJson ):
    "The object targetJson names: a node, intf or link, or (null) net."
    ref = json.loads( targetJson )
    return net if ref is None else decode( net, ref )


@reported
def call( net, targetJson, method, argsJson ):
    """Run method of the object targetJson names (null: the network) with
       the arguments { args, kwargs }; its result as JSON."""
    if method.startswith( '_' ):
        raise MnkvmError( '%s is not a public method' % method )
    target = targetOf( net, targetJson )
    given = decode( net, json.loads( argsJson ) )
    return json.dumps( encode( getattr( target, method )(
        *given[ 'args' ], **given[ 'kwargs' ] ) ) )


@reported
def nodes( net, namesJson ):
    """Mininet's get( *names ): a node, or a list of them; one line for a
       name the network has not."""
    names = json.loads( namesJson )
    for name in names:
        nodeNamed( net, name )
    return json.dumps( encode( net.get( *names ) ) )


@reported
def attribute( net, targetJson, name ):
    """The attribute name of the object targetJson names (null: the
       network), as JSON: net.hosts, an intf's link."""
    if name.startswith( '_' ):
        raise MnkvmError( '%s is not a public attribute' % name )
    target = targetOf( net, targetJson )
    return json.dumps( encode( getattr( target, name ) ) )


@reported
def cmd( net, name, argsJson ):
    "Node.cmd, kept to the least work: the call TypeScript makes most."
    return net.get( name ).cmd( *json.loads( argsJson ) )


@reported
def add( net, method, name, optsJson ):
    """addHost, addSwitch, addController, addNAT or addDocker (method) with
       TypeScript's options; the node made, or None for `--controller
       none`'s stand-in."""
    key = dict( addHost='host', addNAT='host', addDocker='host',
                addSwitch='switch', addController='controller' )[ method ]
    opts, cls = classOf( key, decode( net, json.loads( optsJson ) ) )
    if method == 'addDocker':
        return json.dumps( encode( net.addHost( name, cls=Docker,
                                                **dockerParams( opts ) ) ) )
    if method == 'addController':
        return json.dumps( encode( net.addController(
            name, controller=cls, **opts ) ) )
    if cls:
        opts[ 'cls' ] = cls
    return json.dumps( encode( getattr( net, method )( name, **opts ) ) )


@reported
def addLink( net, node1, node2, optsJson ):
    """Mininet's addLink, its class from kind (see classOf); on a running
       network a switch's new port joins it (MnkvmNet)."""
    opts, cls = classOf( 'link', json.loads( optsJson ) )
    link = net.addLink( nodeNamed( net, node1 ), nodeNamed( net, node2 ),
                        cls=cls, **opts )
    return json.dumps( encode( link ) )


@reported
def delLinkBetween( net, node1, node2, index, allLinks ):
    """Mininet's delLinkBetween; the links deleted, described before they
       go (a deleted link has no interfaces); one line where there is
       none."""
    node1, node2 = nodeNamed( net, node1 ), nodeNamed( net, node2 )
    links = net.linksBetween( node1, node2 )
    if not links[ index: ] and not ( allLinks and links ):
        raise MnkvmError( 'no link %sbetween %s and %s' % (
            '' if allLinks or not index else 'number %d ' % index,
            node1, node2 ) )
    described = encode( links if allLinks else [ links[ index ] ] )
    net.delLinkBetween( node1, node2, index=index, allLinks=allLinks )
    return json.dumps( described )


@reported
def monitor( net, hostsJson, timeoutms ):
    """Mininet's monitor: an iterator (next() takes from it) of
       [ host, line ], or [ null, null ] when timeoutms passed quietly."""
    hosts = decode( net, json.loads( hostsJson ) )
    return ( json.dumps( encode( item ) )
             for item in net.monitor( hosts, timeoutms ) )


@reported
def cli( net, script ):
    """Mininet's CLI on the running network, on this process's stdin and
       stdout (the program's); script: a file of CLI commands to run
       instead. A terminal's Ctrl-C interrupts the command, as in mn."""
    MnkvmCLI( net, script=script )


# Processes

class Process( object ):
    """A process popen() started on a host, its stdout and stderr merged,
       as TypeScript's Popen reads it."""

    def __init__( self, popen ):
        self.popen = popen
        self.pid = popen.pid
        self.output = iter( popen.stdout.readline, b'' )


@reported
def popen( net, name, argsJson ):
    "Node.popen( args, shell ), its stderr with its stdout: a Process."
    given = json.loads( argsJson )
    return Process( net.get( name ).popen(
        given[ 'args' ], shell=given[ 'shell' ], stderr=STDOUT ) )


@reported
def readline( process ):
    "The process's next line of output, or None once it has ended."
    line = next( process.output, None )
    return None if line is None else line.decode( errors='replace' )


@reported
def wait( process ):
    "Wait for the process to end; its exit code."
    return process.popen.wait()


@reported
def sendSignal( process, name ):
    "Send signal name (SIGTERM, SIGKILL, ...) to the process."
    process.popen.send_signal( signal.Signals[ name ] )


@reported
def pmonitor( timeoutms, *processes ):
    """Mininet's pmonitor over processes: an iterator (next() takes from
       it) of [ index, line ], or [ null, '' ] when timeoutms passed
       quietly; it ends when every process has closed its output."""
    popens = { i: process.popen for i, process in enumerate( processes ) }
    return ( json.dumps( item )
             for item in mininetPmonitor( popens, timeoutms=timeoutms ) )


@reported
def following( iterator ):
    "The iterator's next value, or None at its end."
    return next( iterator, None )


@reported
def timeCmd( net, name, n ):
    """Seconds per host.cmd('true'), measured here in Python: the baseline
       of `mnkvm bench bridge` (src/bench/bridge.ts), its only user."""
    host = net.get( name )
    begin = perf_counter()
    for _ in range( n ):
        host.cmd( 'true' )
    return ( perf_counter() - begin ) / n

"""What mnkvm's TypeScript API (src/api) calls: small functions taking JSON,
so that TypeScript never has to build Python keyword arguments (the list
and its types: src/api/python.ts). An exception one raises is kept as a
record (kind, message, details) that TypeScript fetches with lastError():
errors cross typed, not as traceback text to match."""

import functools
import json
import traceback
from subprocess import STDOUT
from time import perf_counter

from mininet.topo import Topo

from mnkvm.engine import MnkvmError
from mnkvm.mn import customClasses, mnModule
from mnkvm.net import MnkvmNet, install

# Hosts' cgroups recorded, Mininet's cleanup() harmless, as under `mnkvm run`
install()

_lastError = None


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


def topology( spec ):
    "A Topo from 'single,2' (mn's --topo syntax) or {hosts, switches, links}."
    if isinstance( spec, str ):
        mn = mnModule()
        return mn.buildTopo( mn.TOPOS, spec )
    topo = Topo()
    for name, opts in spec[ 'hosts' ]:
        topo.addHost( name, **hostParams( opts ) )
    for name, opts in spec[ 'switches' ]:
        topo.addSwitch( name, **opts )
    for a, b, opts in spec[ 'links' ]:
        topo.addLink( a, b, **opts )
    return topo


def hostParams( opts ):
    "TypeScript host options -> Mininet's addHost parameters."
    opts = dict( opts )
    kind = opts.pop( 'kind', None )
    if kind:
        opts[ 'cls' ] = customClasses( { 'host': kind } )[ 'host' ]
    return opts


@reported
def start( specJson ):
    "Build and start a network: { topo, host, switch, controller, link }."
    spec = json.loads( specJson )
    net = MnkvmNet( topo=topology( spec[ 'topo' ] ), **customClasses(
        { k: spec.get( k )
          for k in ( 'host', 'switch', 'controller', 'link' ) } ) )
    net.start()
    return net


@reported
def stop( net ):
    net.stop()


@reported
def hasNode( net, name ):
    return name in net


@reported
def cmd( net, name, argsJson ):
    return net.get( name ).cmd( *json.loads( argsJson ) )


@reported
def ip( net, name ):
    return net.get( name ).IP()


@reported
def addHost( net, name, optsJson ):
    net.addHost( name, **hostParams( json.loads( optsJson ) ) )


@reported
def addLink( net, a, b, optsJson ):
    "Add a link at run time (a switch end joins its switch: MnkvmNet)."
    link = net.addLink( a, b, **json.loads( optsJson ) )
    return '%s %s' % ( link.intf1, link.intf2 )


@reported
def delLink( net, a, b ):
    net.delLinkBetween( net.get( a ), net.get( b ) )


@reported
def iperf( net, a, b, l4Type, seconds ):
    return json.dumps( net.iperf( [ net.get( a ), net.get( b ) ],
                                  l4Type=l4Type, seconds=seconds ) )


@reported
def ping( net, namesJson, timeout ):
    names = json.loads( namesJson )
    hosts = [ net.get( n ) for n in names ] if names else None
    return net.ping( hosts, timeout=timeout )


@reported
def popenLines( net, name, argvJson ):
    "Run argv on host name; its output lines, then 'exit:<code>'."
    proc = net.get( name ).popen( json.loads( argvJson ), stderr=STDOUT )

    def lines():
        for line in iter( proc.stdout.readline, b'' ):
            yield line.decode( errors='replace' )
        yield 'exit:%d' % proc.wait()
    return lines()


@reported
def timeCmd( net, name, n ):
    "Seconds per host.cmd('true'), measured here in Python (for bench bridge)."
    host = net.get( name )
    begin = perf_counter()
    for _ in range( n ):
        host.cmd( 'true' )
    return ( perf_counter() - begin ) / n

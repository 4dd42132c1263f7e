"""What mnkvm's TypeScript API (src/api) calls: small functions taking JSON,
so that TypeScript never has to build Python keyword arguments."""

import json
from subprocess import STDOUT
from time import perf_counter

from mininet.topo import Topo

from mnkvm.mn import customClasses, mnModule
from mnkvm.net import MnkvmNet, install

# Hosts' cgroups recorded, Mininet's cleanup() harmless, as under `mnkvm run`
install()


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


def start( specJson ):
    "Build and start a network: { topo, host, switch, controller, link }."
    spec = json.loads( specJson )
    net = MnkvmNet( topo=topology( spec[ 'topo' ] ), **customClasses(
        { k: spec.get( k ) for k in ( 'host', 'switch', 'controller', 'link' ) } ) )
    net.start()
    return net


def addHost( net, name, optsJson ):
    return net.addHost( name, **hostParams( json.loads( optsJson ) ) )


def addLink( net, a, b, optsJson ):
    "Add a link at run time; a switch end is attached to its switch."
    link = net.addLink( a, b, **json.loads( optsJson ) )
    for intf in ( link.intf1, link.intf2 ):
        if hasattr( intf.node, 'attach' ) and intf.node in net.switches:
            intf.node.attach( intf.name )
    return '%s %s' % ( link.intf1, link.intf2 )


def iperf( net, a, b, l4Type, seconds ):
    return json.dumps( net.iperf( [ net.get( a ), net.get( b ) ],
                                  l4Type=l4Type, seconds=seconds ) )


def ping( net, namesJson, timeout ):
    names = json.loads( namesJson )
    hosts = [ net.get( n ) for n in names ] if names else None
    return net.ping( hosts, timeout=timeout )


def popenLines( host, argvJson ):
    "Run argv on host; yield its output lines, then 'exit:<code>'."
    proc = host.popen( json.loads( argvJson ), stderr=STDOUT )
    for line in iter( proc.stdout.readline, b'' ):
        yield line.decode( errors='replace' )
    yield 'exit:%d' % proc.wait()


def timeCmd( host, n ):
    "Seconds per host.cmd('true'), measured here in Python (for bench bridge)."
    start = perf_counter()
    for _ in range( n ):
        host.cmd( 'true' )
    return ( perf_counter() - start ) / n

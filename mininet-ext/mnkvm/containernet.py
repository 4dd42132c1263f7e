"""Containernet's API on KVM hosts.

A script written for Containernet (Mininet with Docker containers as
hosts) runs under `mnkvm run` unchanged:

    from mininet.net import Containernet
    from mininet.node import Docker
    net = Containernet()
    d1 = net.addDocker( 'd1', ip='10.0.0.251', dimage='web:1',
                        environment={ 'MODE': 'test' }, mem_limit='256m' )

Each Docker host is a KVM host booted from the image its dimage stands for
(`mnkvm image import`; `mnkvm run --image DIMAGE=SOURCE`), its shell in the
image's root. Each of Docker's options becomes its KVM host's equivalent
where there is one (OPTIONS, the one definition, which `mnkvm migrate`
reports from too); an option without one is one warning line, never
silently dropped. As in Containernet, dcmd runs in the background once the
host is up, and d.start() runs the image's ENTRYPOINT and CMD."""

import ast
import math
import os
import re
import shlex
import socket
import sys
from subprocess import DEVNULL

import mininet.net
import mininet.node
import mininet.topolib
from mininet.log import info, output, warn
from mininet.net import Mininet
from mininet.node import Host
from mininet.topolib import TreeTopo

from mnkvm import engine
from mnkvm.engine import MnkvmError
from mnkvm.kvmhost import KVMHost

MAPPED, APPROXIMATED, DROPPED = 'mapped', 'approximated', 'dropped'

# Containernet's Docker options (its mininet/node.py) and what each is on
# a KVM host
OPTIONS = {
    'dimage': ( MAPPED, 'image=: the mnkvm image the Docker image stands for' ),
    'dcmd': ( MAPPED, 'runs in the background once the host is up' ),
    'environment': ( MAPPED, "exported in the host's shell, its SSH "
                     'sessions (popen) and dcmd' ),
    'volumes': ( APPROXIMATED, 'HOST:GUEST[:ro] volumes: the folder of this '
                 "machine that holds them all shared (share=, sshfs over a "
                 'virtio port), each bound at GUEST; a named volume, a volume of '
                 '/ itself, or ones with only / in common, left out (a line '
                 'each)' ),
    'tmpfs': ( MAPPED, 'a tmpfs mounted in the guest' ),
    'sysctls': ( MAPPED, 'set in the guest (sysctl -w)' ),
    'mem_limit': ( MAPPED, 'mem=, in MiB (at least 160)' ),
    'cpuset_cpus': ( MAPPED, "cores=: the VM's threads pinned to them" ),
    'cpu_quota': ( APPROXIMATED, 'cpus=: cpu_quota/cpu_period rounded up to '
                   'whole vCPUs' ),
    'cpu_period': ( APPROXIMATED, 'with cpu_quota' ),
    'cpus': ( APPROXIMATED, 'cpus=, rounded up to whole vCPUs' ),
    'rm': ( MAPPED, 'nothing to do: a run leaves no host behind' ),
    'cpu_shares': ( DROPPED, "no weights between VMs' threads" ),
    'memswap_limit': ( DROPPED, 'a guest has no swap' ),
    'ports': ( MAPPED, 'TCP ports without a binding: published at a free '
               'port of this machine (publish_all_ports), one line says which' ),
    'port_bindings': ( MAPPED, "TCP: this machine's port relayed to the "
                       "guest's (docker-proxy's way, over the management "
                       'link); UDP left out' ),
    'publish_all_ports': ( MAPPED, 'with ports= (not the image\'s EXPOSE '
                           'ones)' ),
    'shm_size': ( DROPPED, "the guest's /dev/shm is a tmpfs of its memory" ),
    'dns': ( DROPPED, 'a host has no route out of the network' ),
    'network_mode': ( DROPPED, "a KVM host has only Mininet's links" ),
    'ipc_mode': ( DROPPED, 'a VM shares no IPC with another' ),
    'devices': ( DROPPED, "a VM has its own devices (the guest's root has "
                 'them all)' ),
    'cap_add': ( DROPPED, "the guest's root has every capability" ),
    'storage_opt': ( DROPPED, "the image's disk is shared, read-only; writes "
                     'go to guest memory' ),
    'device_requests': ( DROPPED, 'no GPUs in a KVM host' ),
    'build_params': ( DROPPED, 'no Docker here to build with: build and '
                      '`docker save` elsewhere, or `mnkvm image build '
                      '--debian`' ),
}
# Docker options with no line when they have their default value
DEFAULTS = { 'cap_add': [ 'net_admin' ],
             'shm_size': '64mb', 'rm': False }

# dimage -> SOURCE, from `mnkvm run --image` (set by install())
IMAGES = {}

PORTFORWARD = os.path.join( os.path.dirname( __file__ ), 'portforward.py' )

UNITS = { '': 1, 'b': 1, 'k': 2 ** 10, 'm': 2 ** 20, 'g': 2 ** 30 }
MIN_MEM = 160   # MiB: the engine's least for mem=


def memMiB( value ):
    "Docker's memory size (bytes, or '512m', '1g') in MiB."
    m = re.fullmatch( r'(\d+)\s*([bkmg]?)b?', str( value ).strip().lower() )
    if not m:
        raise MnkvmError( 'mem_limit=%r: give bytes or a size like 512m' %
                          ( value, ) )
    return int( m.group( 1 ) ) * UNITS[ m.group( 2 ) ] // 2 ** 20


def cpuList( value ):
    "Docker's cpuset ('0,2', '0-3') as a list of cores."
    cores = []
    for part in str( value ).split( ',' ):
        lo, _, hi = part.strip().partition( '-' )
        cores += range( int( lo ), int( hi or lo ) + 1 )
    return cores


def sharedVolumes( docker ):
    """Docker's HOST:GUEST[:ro] volumes on a KVM host: the folder of this
       machine it shares (the one that holds them all), the ( HOST, GUEST,
       read-only ) binds to make in the guest, and lines for the rest."""
    binds, lines = [], []
    for volume in docker.get( 'volumes' ) or []:
        source, _, rest = volume.partition( ':' )
        target, _, mode = rest.partition( ':' )
        if not ( source.startswith( '/' ) and target.startswith( '/' ) ):
            lines.append( 'volumes: %s is left out (a KVM host has no named '
                          'volumes: give HOST:GUEST)' % volume )
            continue
        binds.append( ( os.path.normpath( source ), os.path.normpath( target ),
                        'ro' in mode.split( ',' ) ) )
    # The folder to share: the deepest one that holds the first volume and
    # each next one that has more than / in common with those before it
    # (not the machine's whole tree)
    folder, kept = None, []
    for bind in binds:
        source = bind[ 0 ] if not os.path.isfile( bind[ 0 ] ) else (
            os.path.dirname( bind[ 0 ] ) )
        common = os.path.commonpath( [ folder, source ] ) if folder else source
        if common == '/':
            lines.append( 'volumes: %s:%s is left out (%s: a KVM host shares '
                          'one folder of this machine, never its whole tree)' % (
                              bind[ 0 ], bind[ 1 ], 'it has only / in common '
                              'with %s' % folder if folder else 'it is /' ) )
            continue
        folder = common
        kept.append( bind )
    binds = kept
    return folder, binds, lines


def portSpec( key ):
    "Docker's container port (80, '80', '80/udp', ( 80, 'udp' )) as (80, 'udp')."
    port, _, proto = ( '%s/%s' % key if isinstance( key, tuple )
                       else str( key ) ).partition( '/' )
    if not port.isdigit() or proto not in ( '', 'tcp', 'udp', 'sctp' ):
        raise MnkvmError( 'ports: %r: give a port as 80 or 80/tcp' % ( key, ) )
    return int( port ), proto or 'tcp'


def publishedPorts( docker ):
    """Docker's ports and port_bindings as ( guest port, address, port of
       this machine, 0 for a free one ) to relay, TCP only; and lines for
       the rest. As Docker, with publish_all_ports (Containernet's
       default), a port in ports without a binding gets a free one."""
    bindings = { portSpec( k ): v for k, v in
                 ( docker.get( 'port_bindings' ) or {} ).items() }
    if docker.get( 'publish_all_ports', True ):
        for key in docker.get( 'ports' ) or []:
            bindings.setdefault( portSpec( key ), None )
    published, lines = [], []
    for ( port, proto ), value in bindings.items():
        if proto != 'tcp':
            lines.append( 'port %d/%s: left out: only TCP ports are relayed' %
                          ( port, proto ) )
            continue
        for value in value if isinstance( value, list ) else [ value ]:
            address, machinePort = ( ( tuple( value ) + ( None, ) )[ :2 ]
                                     if isinstance( value, tuple )
                                     else ( None, value ) )
            if not str( machinePort or 0 ).isdigit():
                raise MnkvmError( 'port_bindings: %r: give a port of this '
                                  'machine, or (ADDRESS, PORT)' % ( value, ) )
            published.append( ( port, address or '0.0.0.0',
                                int( machinePort or 0 ) ) )
    return published, lines


def vmParams( name, docker ):
    """A KVM host's options for Docker options docker, and the lines to
       say for those approximated or dropped."""
    params, lines = {}, []
    if docker.get( 'mem_limit' ) is not None:
        mem = memMiB( docker[ 'mem_limit' ] )
        params[ 'mem' ] = max( mem, MIN_MEM )
        if mem < MIN_MEM:
            lines.append( 'mem_limit=%r: mem=%d (a guest needs at least %d '
                          'MiB)' % ( docker[ 'mem_limit' ], MIN_MEM, MIN_MEM ) )
    quota, period = docker.get( 'cpu_quota' ), docker.get( 'cpu_period' )
    if quota and quota > 0:
        params[ 'cpus' ] = max( 1, math.ceil( quota / ( period or 100000 ) ) )
        lines.append( 'cpu_quota=%s: cpus=%d (whole vCPUs, not a share of '
                      'one)' % ( quota, params[ 'cpus' ] ) )
    if docker.get( 'cpus' ):
        params[ 'cpus' ] = max( 1, math.ceil( float( docker[ 'cpus' ] ) ) )
        if params[ 'cpus' ] != docker[ 'cpus' ]:
            lines.append( 'cpus=%s: cpus=%d (whole vCPUs)' %
                          ( docker[ 'cpus' ], params[ 'cpus' ] ) )
    if docker.get( 'cpuset_cpus' ):
        params[ 'cores' ] = cpuList( docker[ 'cpuset_cpus' ] )
    folder, _, volumeLines = sharedVolumes( docker )
    if folder:
        params[ 'share' ] = folder
    lines += volumeLines + publishedPorts( docker )[ 1 ]
    for key, value in docker.items():
        kind, how = OPTIONS[ key ]
        if kind == DROPPED and value not in ( None, [], {}, '' ) and (
                DEFAULTS.get( key, object() ) != value ):
            lines.append( '%s=%r: left out: %s' % ( key, value, how ) )
    return params, [ '%s: %s' % ( name, line ) for line in lines ]


class Docker( KVMHost ):
    """Containernet's Docker host, a KVM host (see module docstring). Its
       resources dict says what was asked, as Containernet's does."""

    def __init__( self, name, dimage=None, dcmd=None, **params ):
        docker = { key: params.pop( key ) for key in list( params )
                   if key in OPTIONS }
        if not dimage:
            raise MnkvmError( '%s: a Docker host needs dimage= (the image it '
                              'runs)' % name )
        image = engine.containerImage( dimage, IMAGES.get( dimage ) )
        for source, _, _ in sharedVolumes( docker )[ 1 ]:
            if not os.path.exists( source ):
                os.makedirs( source )   # (as Docker makes a bind's source)
        vm, lines = vmParams( name, docker )
        for line in lines:
            warn( '*** %s\n' % line )
        params.update( vm, image=image[ 'name' ] )
        self.dimage, self.dcmd = dimage, dcmd
        self.imageConfig = image[ 'config' ]
        self.docker = docker
        self.resources = { key: docker.get( key ) for key in (
            'cpu_quota', 'cpu_period', 'cpu_shares', 'cpuset_cpus',
            'mem_limit', 'memswap_limit' ) }
        self.containerReady = False
        self.published = []   # ( guest port, address, port of this machine )
        KVMHost.__init__( self, name, **params )

    def waitBooted( self ):
        "KVMHost's; then, once, what the container starts with (see setUp)."
        KVMHost.waitBooted( self )
        if not self.containerReady:
            self.containerReady = True
            self.setUp()

    def setUp( self ):
        """environment (in the shell and for SSH sessions), the volumes at
           their paths in the guest, tmpfs mounts, sysctls, published ports;
           then dcmd."""
        env = self.docker.get( 'environment' ) or {}
        exports = ' '.join( 'export %s=%s;' % ( k, shlex.quote( str( v ) ) )
                            for k, v in env.items() )
        if exports:
            self.cmd( 'mkdir -p /.mnkvm;', exports )
            self.cmd( 'echo %s >> /.mnkvm/profile' % shlex.quote( exports ) )   # (ssh sessions)
        for source, target, readonly in sharedVolumes( self.docker )[ 1 ]:
            source, target = shlex.quote( source ), shlex.quote( target )
            if target != source or readonly:
                # (a file's volume is bound onto a file)
                self.cmd( 'if [ -d %s ]; then mkdir -p %s; else mkdir -p '
                          '"$(dirname %s)"; touch %s; fi' % (
                              source, target, target, target ) )
                self.cmd( 'mount --bind %s %s' % ( source, target ) )
            if readonly:
                self.cmd( 'mount -o remount,ro,bind %s' % target )
        for spec in self.docker.get( 'tmpfs' ) or []:
            path, _, options = spec.partition( ':' )
            self.cmd( 'mkdir -p %s && mount -t tmpfs -o %s tmpfs %s' % (
                shlex.quote( path ), shlex.quote( options or 'mode=1777' ),
                shlex.quote( path ) ) )
        for key, value in ( self.docker.get( 'sysctls' ) or {} ).items():
            self.cmd( 'sysctl -qw %s=%s' % ( key, shlex.quote( str( value ) ) ) )
        self.publish()
        if self.dcmd and shlex.split( self.dcmd ) not in (
                [ '/bin/bash' ], [ 'bash' ], [ '/bin/sh' ], [ 'sh' ] ):
            self.background( self.dcmd )   # (a bare shell: Containernet's default, nothing to run)

    def publish( self ):
        """Relay each published port of this machine to the guest's port
           (portforward.py, a process of ours in this host's namespace)."""
        ports = publishedPorts( self.docker )[ 0 ]
        if ports and self.isRemote:
            warn( '*** %s: ports left out: a host on a server publishes no '
                  'port of this machine\n' % self.name )
            return
        guest = self.ssh[ 'target' ].split( '@' )[ -1 ]
        for port, address, machinePort in ports:
            family = socket.AF_INET6 if ':' in address else socket.AF_INET
            with socket.socket( family ) as listener:
                try:
                    listener.setsockopt( socket.SOL_SOCKET,
                                         socket.SO_REUSEADDR, 1 )
                    listener.bind( ( address, machinePort ) )
                    listener.listen( 64 )
                except OSError as e:
                    raise MnkvmError(
                        '%s: port %d cannot be published at %s:%d (%s): '
                        'give another port of this machine in port_bindings'
                        % ( self.name, port, address, machinePort,
                            e.strerror ) ) from None
                machinePort = listener.getsockname()[ 1 ]
                fd = str( listener.fileno() )
                self.track( Host.popen(
                    self, [ sys.executable, PORTFORWARD, fd, guest, str( port ) ],
                    pass_fds=[ listener.fileno() ], stdin=DEVNULL,
                    stdout=DEVNULL, stderr=DEVNULL ) )
            self.published.append( ( port, address, machinePort ) )
            info( '*** %s: port %d published at %s:%d\n' % (
                self.name, port, address, machinePort ) )

    def background( self, command ):
        """Run command in the background, its output in /.mnkvm/start.log
           (from a subshell that ends at once: no job of the host's shell,
           whose end it would report in a later command's output)."""
        self.cmd( 'mkdir -p /.mnkvm; ( ( %s ) >> /.mnkvm/start.log 2>&1 '
                  '< /dev/null & )' % command )

    def start( self ):
        """Containernet's Docker.start(): run the image's ENTRYPOINT and
           CMD (CMD bash: none) in the background; as Docker runs them,
           one argument each (Containernet joins them unquoted)."""
        cmd = list( self.imageConfig.get( 'cmd' ) or [] )
        if cmd == [ '/bin/bash' ]:
            cmd = []
        entrypoint = self.imageConfig.get( 'entrypoint' ) or []
        if entrypoint:
            for word in ( '/bin/sh', '-c' ):   # (Containernet's rule)
                if word in cmd:
                    cmd.remove( word )
            cmd = list( entrypoint ) + cmd
        if cmd:
            self.background( shlex.join( cmd ) )

    def updateCpuLimit( self, cpu_quota=-1, cpu_period=-1, cpu_shares=-1,
                        cores=None ):
        """Containernet's: cores pins the VM's threads again; a VM's vCPUs
           are set at start, so quota, period and shares are recorded in
           resources, with one line."""
        if cores is not None:
            self.setCPUs( cpuList( cores ) )
            self.resources[ 'cpuset_cpus' ] = cores
        asked = { k: v for k, v in ( ( 'cpu_quota', cpu_quota ),
                                     ( 'cpu_period', cpu_period ),
                                     ( 'cpu_shares', cpu_shares ) )
                  if v is not None and v != -1 }
        if asked:
            self.resources.update( asked )
            warn( '*** %s: updateCpuLimit(%s): not applied: a KVM host\'s '
                  'vCPUs are set at its start\n' % ( self.name, ', '.join(
                      '%s=%s' % kv for kv in asked.items() ) ) )

    def updateMemoryLimit( self, mem_limit=-1, memswap_limit=-1 ):
        "Containernet's: recorded in resources, with one line (no balloon)."
        asked = { k: v for k, v in ( ( 'mem_limit', mem_limit ),
                                     ( 'memswap_limit', memswap_limit ) )
                  if v is not None and v != -1 }
        if asked:
            self.resources.update( asked )
            warn( '*** %s: updateMemoryLimit: not applied: a KVM host\'s '
                  'memory is set at its start\n' % self.name )


class Containernet( Mininet ):
    """Containernet's network (install() makes it an MnkvmNet, as every
       network of a run): Mininet, with Docker hosts."""

    def ping( self, hosts=None, timeout=None, manualdestip=None ):
        """Mininet's ping; manualdestip: Containernet's, each of hosts (all
           by default) pings that address once."""
        if manualdestip is None:
            return Mininet.ping( self, hosts, timeout )
        received = 0
        hosts = hosts or self.hosts
        for node in hosts:
            result = node.cmd( 'ping -c1 %s %s' % (
                '-W %s' % timeout if timeout else '', manualdestip ) )
            got = self._parsePing( result )[ 1 ] > 0
            received += got
            output( '%s -> %s\n' % ( node.name,
                                     manualdestip if got else 'X' ) )
        ploss = 100.0 * ( len( hosts ) - received ) / len( hosts )
        output( '*** Results: %i%% dropped (%d/%d received)\n' % (
            ploss, received, len( hosts ) ) )
        return ploss

    def addDocker( self, name, cls=Docker, **params ):
        "Add a Docker host (a KVM host)."
        return self.addHost( name, cls=cls, **params )

    def removeDocker( self, name, **params ):
        "Remove a Docker host."
        return self.removeHost( name, **params )

    def removeHost( self, name, **_params ):
        "Containernet's removeHost: Mininet's delHost, by name or node."
        self.delHost( self.get( name ) if isinstance( name, str ) else name )

    def removeLink( self, link=None, node1=None, node2=None ):
        "Containernet's removeLink: a link, or the link between two nodes."
        if link is not None:
            return self.delLink( link )
        node1, node2 = ( self.get( n ) if isinstance( n, str ) else n
                         for n in ( node1, node2 ) )
        return self.delLinkBetween( node1, node2 )


class ContainerTreeTopo( TreeTopo ):
    "Containernet's: Mininet's TreeTopo, its hosts Docker hosts of dimage."

    def build( self, depth=1, fanout=2, dimage='ubuntu:trusty' ):
        self.dimage = dimage
        TreeTopo.build( self, depth, fanout )

    def addHost( self, name, **opts ):
        opts.update( cls=Docker, dimage=self.dimage )
        return TreeTopo.addHost( self, name, **opts )


def TreeContainerNet( depth=1, fanout=2, dimage='ubuntu:trusty', **kwargs ):
    "Containernet's: a tree network of Docker hosts."
    return Containernet( topo=ContainerTreeTopo( depth, fanout, dimage ),
                         **kwargs )


def install( images ):
    """Containernet's names where its scripts import them from (Debian's
       Mininet has none of them); images: dimage -> SOURCE."""
    IMAGES.clear()
    IMAGES.update( images )
    mininet.net.Containernet = Containernet
    mininet.node.Docker = Docker
    mininet.topolib.ContainerTreeTopo = ContainerTreeTopo
    mininet.topolib.TreeContainerNet = TreeContainerNet


def migrate( path ):
    """What `mnkvm migrate` says of the script at path, without running it:
       per Docker host and option, mapped, approximated or dropped; the
       images it needs. Returns the report's lines."""
    with open( path ) as f:
        tree = ast.parse( f.read(), path )
    lines, images = [], []
    for call in ast.walk( tree ):
        if not isinstance( call, ast.Call ):
            continue
        fn = call.func.attr if isinstance( call.func, ast.Attribute ) else (
            call.func.id if isinstance( call.func, ast.Name ) else '' )
        keywords = { k.arg: k.value for k in call.keywords if k.arg }
        cls = keywords.get( 'cls' )
        isDocker = fn in ( 'addDocker', 'Docker' ) or (
            fn == 'addHost' and isinstance( cls, ast.Name ) and
            cls.id == 'Docker' )
        if fn in ( 'TreeContainerNet', 'ContainerTreeTopo' ):
            dimage = keywords.get( 'dimage' ) or (
                call.args[ 2 ] if len( call.args ) > 2 else None )
            value = ( dimage.value if isinstance( dimage, ast.Constant )
                      else 'ubuntu:trusty' if dimage is None else None )
            images += [ value ] if isinstance( value, str ) else []
            lines.append( '%s (line %d): a tree of Docker hosts of dimage=%s '
                          '(no other options)' % ( fn, call.lineno, ast.unparse(
                              dimage ) if dimage else repr( value ) ) )
            continue
        if not isDocker:
            continue
        name = ( ast.literal_eval( call.args[ 0 ] ) if call.args and
                 isinstance( call.args[ 0 ], ast.Constant ) else '?' )
        lines.append( '%s (line %d):' % ( name, call.lineno ) )
        for key, node in keywords.items():
            if key not in OPTIONS:
                continue
            try:
                value = ast.literal_eval( node )
            except ValueError:
                value = None   # (an expression: its value is seen at run time)
            kind, how = OPTIONS[ key ]
            if key == 'dimage' and isinstance( value, str ):
                images.append( value )
            shown = ast.unparse( node )
            if kind == DROPPED and value is not None and (
                    DEFAULTS.get( key, object() ) == value ):
                continue
            lines.append( '  %s=%s: %s: %s' % ( key, shown, kind, how ) )
    if not lines:
        lines.append( 'no Docker hosts (addDocker, Docker) in %s' % path )
    lines.append( 'images: %s' % ( ', '.join( sorted( set( images ) ) ) or
                                   'none named literally' ) )
    for image in sorted( set( images ) ):
        lines.append( '  %s: give --image %s=docker-archive:FILE.tar (or '
                      'oci:DIR, or an mnkvm image)' % ( image, image ) )
    return lines

"""Docker's option values, read as a KVM host needs them: memory sizes,
cpusets, volumes, published ports. Pure functions (no engine, no host)."""

import os
import re

from mnkvm.engine import MnkvmError

UNITS = { '': 1, 'b': 1, 'k': 2 ** 10, 'm': 2 ** 20, 'g': 2 ** 30 }


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
                          'one folder of this machine, never its whole '
                          'tree)' % (
                              bind[ 0 ], bind[ 1 ], 'it has only / in common '
                              'with %s' % folder if folder else 'it is /' ) )
            continue
        folder = common
        kept.append( bind )
    binds = kept
    return folder, binds, lines


def portSpec( key ):
    """Docker's container port (80, '80', '80/udp', ( 80, 'udp' )) as
       (80, 'udp')."""
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

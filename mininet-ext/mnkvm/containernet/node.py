"""Containernet's Docker host (its mininet/node.py), a KVM host: booted
from the image its dimage stands for, each Docker option as options.py
says; what the container starts with once the guest is up."""

import os
import shlex
import socket
import sys
from subprocess import DEVNULL

from mininet.log import info, warn
from mininet.node import Host

from mnkvm import engine, portforward
from mnkvm.containernet.options import OPTIONS, vmParams
from mnkvm.containernet.values import cpuList, sharedVolumes
from mnkvm.engine import MnkvmError
from mnkvm.kvmhost import KVMHost

# dimage -> SOURCE, from `mnkvm run --image` (set by install())
IMAGES = {}

PORTFORWARD = portforward.__file__


class Docker( KVMHost ):
    """Containernet's Docker host, a KVM host (see module docstring). Its
       resources dict says what was asked, as Containernet's does; its
       volumes and ports are read once, here (values.py)."""

    def __init__( self, name, dimage=None, dcmd=None, **params ):
        docker = { key: params.pop( key ) for key in list( params )
                   if key in OPTIONS }
        if not dimage:
            raise MnkvmError( '%s: a Docker host needs dimage= (the image it '
                              'runs)' % name )
        image = engine.containerImage( dimage, IMAGES.get( dimage ) )
        volumes = sharedVolumes( docker )
        self.binds = volumes[ 1 ]   # ( HOST, GUEST, read-only ), for setUp
        for source, _, _ in self.binds:
            if not os.path.exists( source ):
                os.makedirs( source )   # (as Docker makes a bind's source)
        # ( guest port, address, port of this machine or 0 ), for publish
        vm, lines, self.toPublish = vmParams( name, docker, volumes )
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
            # (ssh sessions)
            self.cmd( 'echo %s >> /.mnkvm/profile' % shlex.quote( exports ) )
        for source, target, readonly in self.binds:
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
            self.cmd( 'sysctl -qw %s=%s' % (
                key, shlex.quote( str( value ) ) ) )
        self.publish()
        if self.dcmd and shlex.split( self.dcmd ) not in (
                [ '/bin/bash' ], [ 'bash' ], [ '/bin/sh' ], [ 'sh' ] ):
            # (a bare shell: Containernet's default, nothing to run)
            self.background( self.dcmd )

    def publish( self ):
        """Relay each published port of this machine to the guest's port
           (portforward.py, a process of ours in this host's namespace)."""
        if self.toPublish and self.isRemote:
            warn( '*** %s: ports left out: a host on a server publishes no '
                  'port of this machine\n' % self.name )
            return
        guest = self.ssh[ 'target' ].split( '@' )[ -1 ]
        for port, address, machinePort in self.toPublish:
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
                    self,
                    [ sys.executable, PORTFORWARD, fd, guest, str( port ) ],
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

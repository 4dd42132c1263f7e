"""Containernet's Docker options and what each is on a KVM host: in words
(OPTIONS, which `mnkvm migrate` reports and a Docker host's warning lines
quote) and in values (vmParams, a KVM host's options)."""

import math

from mnkvm import engine
from mnkvm.containernet.values import cpuList, memMiB, publishedPorts

MAPPED, APPROXIMATED, DROPPED = 'mapped', 'approximated', 'dropped'

# Containernet's Docker options (its mininet/node.py) and what each is on
# a KVM host ({leastMem}: the engine's least for mem=, see explain())
OPTIONS = {
    'dimage': ( MAPPED, 'image=: the mnkvm image the Docker image stands '
                'for' ),
    'dcmd': ( MAPPED, 'runs in the background once the host is up' ),
    'environment': ( MAPPED, "exported in the host's shell, its SSH "
                     'sessions (popen) and dcmd' ),
    'volumes': ( APPROXIMATED, 'HOST:GUEST[:ro] volumes: the folder of this '
                 "machine that holds them all shared (share=, sshfs over a "
                 'virtio port), each bound at GUEST; a named volume, a volume '
                 'of / itself, or ones with only / in common, left out (a '
                 'line each)' ),
    'tmpfs': ( MAPPED, 'a tmpfs mounted in the guest' ),
    'sysctls': ( MAPPED, 'set in the guest (sysctl -w)' ),
    'mem_limit': ( MAPPED, 'mem=, in MiB (at least {leastMem})' ),
    'cpuset_cpus': ( MAPPED, "cores=: the VM's threads pinned to them" ),
    'cpu_quota': ( APPROXIMATED, 'cpus=: cpu_quota/cpu_period rounded up to '
                   'whole vCPUs' ),
    'cpu_period': ( APPROXIMATED, 'with cpu_quota' ),
    'cpus': ( APPROXIMATED, 'cpus=, rounded up to whole vCPUs' ),
    'rm': ( MAPPED, 'nothing to do: a run leaves no host behind' ),
    'cpu_shares': ( DROPPED, "no weights between VMs' threads" ),
    'memswap_limit': ( DROPPED, 'a guest has no swap' ),
    'ports': ( MAPPED, 'TCP ports without a binding: published at a free '
               'port of this machine (publish_all_ports), one line says '
               'which' ),
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


def explain( key ):
    """Docker option key's kind (MAPPED, APPROXIMATED or DROPPED) and what
       it is on a KVM host, in words."""
    kind, how = OPTIONS[ key ]
    if '{leastMem}' in how:
        how = how.format( leastMem=engine.kvmHostLeastMem() )
    return kind, how


def isDefault( key, value ):
    "Is value Docker option key's default (which needs no line)?"
    return key in DEFAULTS and DEFAULTS[ key ] == value


def vmParams( name, docker, volumes ):
    """A KVM host's options for Docker options docker, the lines to say
       for those approximated or dropped, and the ports to publish
       (publishedPorts). volumes: sharedVolumes( docker ), read once by the
       host, which makes their sources first."""
    params, lines = {}, []
    if docker.get( 'mem_limit' ) is not None:
        mem = memMiB( docker[ 'mem_limit' ] )
        least = engine.kvmHostLeastMem()
        params[ 'mem' ] = max( mem, least )
        if mem < least:
            lines.append( 'mem_limit=%r: mem=%d (a guest needs at least %d '
                          'MiB)' % ( docker[ 'mem_limit' ], least, least ) )
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
    folder, _, volumeLines = volumes
    if folder:
        params[ 'share' ] = folder
    published, portLines = publishedPorts( docker )
    lines += volumeLines + portLines
    for key, value in docker.items():
        kind, how = explain( key )
        if kind == DROPPED and value not in ( None, [], {}, '' ) and (
                not isDefault( key, value ) ):
            lines.append( '%s=%r: left out: %s' % ( key, value, how ) )
    return params, [ '%s: %s' % ( name, line ) for line in lines ], published

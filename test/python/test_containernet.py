"""Containernet's pure parts without a network or a VM: Docker's values
read (values.py), the options a Docker host's KVM host gets (options.py),
the names install() gives scripts, and `mnkvm migrate`'s report. The
engine is a fake that answers the one call these ask (kvmHostLeastMem)."""

import json
import os
import tempfile

from mnkvm import engine
from mnkvm.containernet import install, net, node, topolib
from mnkvm.containernet.options import explain, vmParams
from mnkvm.containernet.values import ( cpuList, memMiB, portSpec,
                                        publishedPorts, sharedVolumes )
from mnkvm.engine import MnkvmError
from mnkvm.migrate import report

# Not the engine's 160: what a Docker host gets is what the engine says
LEAST_MEM = 200


class FakeEngine( object ):
    "The engine as engine.call() reaches it, with the answers asked here."
    answers = { 'kvmHostLeastMem': LEAST_MEM }

    def call( self, method, _argsJson ):
        return json.dumps( { 'value': self.answers[ method ] } )


engine.attach( FakeEngine() )


def raised( fn, *args ):
    "The message of the MnkvmError fn( *args ) raises."
    try:
        fn( *args )
    except MnkvmError as e:
        return str( e )
    raise AssertionError( '%s%r raised nothing' % ( fn.__name__, args ) )


def params( docker, name='d1' ):
    "vmParams for docker, its volumes read as a Docker host reads them."
    return vmParams( name, docker, sharedVolumes( docker ) )


def test_memMiB():
    assert memMiB( '512m' ) == 512
    assert memMiB( '1g' ) == memMiB( '1G' ) == memMiB( ' 1gb ' ) == 1024
    assert memMiB( 300 * 2 ** 20 ) == memMiB( str( 300 * 2 ** 20 ) ) == 300
    assert memMiB( '2048k' ) == 2
    assert memMiB( '1000000' ) == 0   # (bytes, rounded down)
    assert raised( memMiB, 'lots' ) == (
        "mem_limit='lots': give bytes or a size like 512m" )
    assert raised( memMiB, '1t' ) == (
        "mem_limit='1t': give bytes or a size like 512m" )


def test_cpuList():
    assert cpuList( '0' ) == [ 0 ]
    assert cpuList( 3 ) == [ 3 ]
    assert cpuList( '0,2' ) == [ 0, 2 ]
    assert cpuList( '0-3' ) == [ 0, 1, 2, 3 ]
    assert cpuList( '0-1, 4' ) == [ 0, 1, 4 ]


def test_sharedVolumes():
    docker = { 'volumes': [ '/srv/data/a:/a', '/srv/data/b:/b:ro,z',
                            'named:/c', '/:/root', '/etc/x:/x' ] }
    folder, binds, lines = sharedVolumes( docker )
    assert folder == '/srv/data'
    assert binds == [ ( '/srv/data/a', '/a', False ),
                      ( '/srv/data/b', '/b', True ) ]
    assert lines == [
        'volumes: named:/c is left out (a KVM host has no named volumes: '
        'give HOST:GUEST)',
        'volumes: /:/root is left out (it has only / in common with '
        '/srv/data: a KVM host shares one folder of this machine, never '
        'its whole tree)',
        'volumes: /etc/x:/x is left out (it has only / in common with '
        '/srv/data: a KVM host shares one folder of this machine, never '
        'its whole tree)' ]
    assert sharedVolumes( { 'volumes': [ '/:/host' ] } ) == ( None, [], [
        'volumes: /:/host is left out (it is /: a KVM host shares one '
        'folder of this machine, never its whole tree)' ] )
    assert sharedVolumes( {} ) == sharedVolumes( { 'volumes': None } ) == (
        None, [], [] )


def test_sharedVolumes_ofAFile():
    "A file's volume shares the folder that holds it."
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join( folder, 'conf' )
        with open( path, 'w' ) as f:
            f.write( 'x' )
        assert sharedVolumes( { 'volumes': [ path + ':/etc/conf:ro' ] } ) == (
            folder, [ ( path, '/etc/conf', True ) ], [] )


def test_portSpec():
    assert portSpec( 80 ) == portSpec( '80' ) == portSpec( '80/tcp' ) == (
        80, 'tcp' )
    assert portSpec( '53/udp' ) == portSpec( ( 53, 'udp' ) ) == ( 53, 'udp' )
    assert raised( portSpec, 'http' ) == (
        "ports: 'http': give a port as 80 or 80/tcp" )
    assert raised( portSpec, '80/icmp' ) == (
        "ports: '80/icmp': give a port as 80 or 80/tcp" )


def test_publishedPorts():
    docker = { 'port_bindings': { 80: 8080, '5353/udp': 5353,
                                  81: ( '127.0.0.1', 8081 ),
                                  82: [ 8082, ( '::1', 8083 ) ], 83: None },
               'ports': [ 80, 90, '91/udp' ] }
    assert publishedPorts( docker ) == ( [
        ( 80, '0.0.0.0', 8080 ), ( 81, '127.0.0.1', 8081 ),
        ( 82, '0.0.0.0', 8082 ), ( 82, '::1', 8083 ), ( 83, '0.0.0.0', 0 ),
        ( 90, '0.0.0.0', 0 ) ], [
        'port 5353/udp: left out: only TCP ports are relayed',
        'port 91/udp: left out: only TCP ports are relayed' ] )
    # without publish_all_ports, ports= publishes nothing by itself
    docker[ 'publish_all_ports' ] = False
    assert [ p[ 0 ] for p in publishedPorts( docker )[ 0 ] ] == [
        80, 81, 82, 82, 83 ]
    assert raised( publishedPorts, { 'port_bindings': { 80: 'web' } } ) == (
        "port_bindings: 'web': give a port of this machine, or (ADDRESS, "
        'PORT)' )


def test_vmParams_memory():
    "mem_limit in MiB, at least the engine's least, with a line if less."
    assert params( { 'mem_limit': '300m' } ) == ( { 'mem': 300 }, [], [] )
    assert params( { 'mem_limit': '100m' } ) == ( { 'mem': LEAST_MEM }, [
        "d1: mem_limit='100m': mem=200 (a guest needs at least 200 MiB)" ],
        [] )


def test_vmParams_cpus():
    "Whole vCPUs, rounded up, with a line where that is not what was asked."
    assert params( { 'cpu_quota': 150000, 'cpu_period': 100000 } ) == (
        { 'cpus': 2 }, [ 'd1: cpu_quota=150000: cpus=2 (whole vCPUs, not a '
                         'share of one)' ], [] )
    assert params( { 'cpu_quota': 50000 } )[ 0 ] == { 'cpus': 1 }
    assert params( { 'cpu_quota': -1, 'cpu_period': 100000 } ) == (
        {}, [], [] )
    assert params( { 'cpus': 1.5 } ) == (
        { 'cpus': 2 }, [ 'd1: cpus=1.5: cpus=2 (whole vCPUs)' ], [] )
    assert params( { 'cpus': 2 } ) == ( { 'cpus': 2 }, [], [] )
    assert params( { 'cpuset_cpus': '0-1' } ) == ( { 'cores': [ 0, 1 ] },
                                                   [], [] )


def test_vmParams_volumesPortsAndDropped():
    "Lines in order: resources, volumes, ports, then options left out."
    docker = { 'mem_limit': '64m', 'volumes': [ '/srv/a:/a', 'v:/v' ],
               'port_bindings': { 80: 8080, '53/udp': 53 },
               'cpu_shares': 20, 'cap_add': [ 'net_admin' ],
               'shm_size': '64mb', 'rm': False, 'dns': [], 'devices': None,
               'network_mode': 'host', 'environment': { 'A': 1 } }
    vm, lines, published = params( docker, 'd2' )
    assert vm == { 'mem': LEAST_MEM, 'share': '/srv/a' }
    assert published == [ ( 80, '0.0.0.0', 8080 ) ]
    assert lines == [
        "d2: mem_limit='64m': mem=200 (a guest needs at least 200 MiB)",
        'd2: volumes: v:/v is left out (a KVM host has no named volumes: '
        'give HOST:GUEST)',
        'd2: port 53/udp: left out: only TCP ports are relayed',
        "d2: cpu_shares=20: left out: no weights between VMs' threads",
        "d2: network_mode='host': left out: a KVM host has only Mininet's "
        'links' ]
    # a value other than Docker's default is a line
    assert params( { 'cap_add': [ 'sys_admin' ] } )[ 1 ] == [
        "d1: cap_add=['sys_admin']: left out: the guest's root has every "
        'capability' ]


def test_explain():
    "mem_limit's words give the engine's least, the others are the table's."
    assert explain( 'mem_limit' ) == (
        'mapped', 'mem=, in MiB (at least 200)' )
    assert explain( 'shm_size' ) == (
        'dropped', "the guest's /dev/shm is a tmpfs of its memory" )


def test_install():
    "Containernet's names, where its scripts import them from."
    install( { 'web:1': 'docker-archive:/tmp/web.tar' } )
    from mininet.net import Containernet
    from mininet.node import Docker
    from mininet.topolib import ContainerTreeTopo, TreeContainerNet
    assert ( Containernet, Docker ) == ( net.Containernet, node.Docker )
    assert ( ContainerTreeTopo, TreeContainerNet ) == (
        topolib.ContainerTreeTopo, topolib.TreeContainerNet )
    assert node.IMAGES == { 'web:1': 'docker-archive:/tmp/web.tar' }
    install( {} )
    assert node.IMAGES == {}


def reportOf( script ):
    "`mnkvm migrate`'s lines for a script with this text."
    with tempfile.NamedTemporaryFile( 'w', suffix='.py' ) as f:
        f.write( script )
        f.flush()
        return report( f.name )


def test_report():
    lines = reportOf( '\n'.join( [
        'from mininet.net import Containernet',
        'from mininet.node import Docker',
        'net = Containernet()',
        "d1 = net.addDocker( 'd1', dimage='web:1', mem_limit='300m',",
        "                    cpu_shares=20, shm_size='64mb', ip='10.0.0.1' )",
        "d2 = net.addHost( 'd2', cls=Docker, dimage=image, cpus=n )",
        "d3 = Docker( name, dimage='db:2' )",
        "h1 = net.addHost( 'h1', mem_limit='1g' )" ] ) )
    assert lines == [
        'd1 (line 4):',
        "  dimage='web:1': mapped: image=: the mnkvm image the Docker image "
        'stands for',
        "  mem_limit='300m': mapped: mem=, in MiB (at least 200)",
        "  cpu_shares=20: dropped: no weights between VMs' threads",
        'd2 (line 6):',
        '  dimage=image: mapped: image=: the mnkvm image the Docker image '
        'stands for',
        '  cpus=n: approximated: cpus=, rounded up to whole vCPUs',
        '? (line 7):',
        "  dimage='db:2': mapped: image=: the mnkvm image the Docker image "
        'stands for',
        'images: db:2, web:1',
        '  db:2: give --image db:2=docker-archive:FILE.tar (or oci:DIR, or '
        'an mnkvm image)',
        '  web:1: give --image web:1=docker-archive:FILE.tar (or oci:DIR, or '
        'an mnkvm image)' ]


def test_report_trees():
    lines = reportOf( '\n'.join( [
        'from mininet.topolib import ContainerTreeTopo, TreeContainerNet',
        'net = TreeContainerNet( depth=2 )',
        "topo = ContainerTreeTopo( 1, 2, 'web:1' )",
        'net2 = TreeContainerNet( dimage=image )' ] ) )
    assert lines == [
        'TreeContainerNet (line 2): a tree of Docker hosts of '
        "dimage='ubuntu:trusty' (no other options)",
        "ContainerTreeTopo (line 3): a tree of Docker hosts of dimage='web:1' "
        '(no other options)',
        'TreeContainerNet (line 4): a tree of Docker hosts of dimage=image '
        '(no other options)',
        'images: ubuntu:trusty, web:1',
        '  ubuntu:trusty: give --image ubuntu:trusty=docker-archive:FILE.tar '
        '(or oci:DIR, or an mnkvm image)',
        '  web:1: give --image web:1=docker-archive:FILE.tar (or oci:DIR, or '
        'an mnkvm image)' ]


def test_report_noDockerHosts():
    with tempfile.NamedTemporaryFile( 'w', suffix='.py' ) as f:
        f.write( "net.addHost( 'h1' )\n" )
        f.flush()
        assert report( f.name ) == [
            'no Docker hosts (addDocker, Docker) in %s' % f.name,
            'images: none named literally' ]

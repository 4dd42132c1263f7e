"""mnkvm.api's pure parts, without a network: errors as records, a Topo
from what TypeScript's Topo gives, options' kinds as classes, Docker's
port bindings, values as JSON, and progress events from Mininet's log."""

import json
import logging

from mininet.link import TCLink
from mininet.log import lg
from mininet.node import Host

from mnkvm import api
from mnkvm.containernet.node import Docker
from mnkvm.engine import MnkvmError
from mnkvm.kvmhost import KVMHost, say
from mnkvm.sriovlink import SRIOVLink


def test_errors_cross_as_records():
    assert api.errorRecord( MnkvmError( 'h1: taken', 'clash',
                                        { 'name': 'h1' } ) ) == {
        'kind': 'clash', 'message': 'h1: taken',
        'details': { 'name': 'h1' } }
    try:
        {}[ 'nope' ]
    except KeyError as e:
        record = api.errorRecord( e )
    assert record[ 'kind' ] == 'mininet'
    assert record[ 'message' ] == "'nope'"
    assert record[ 'details' ][ 'pythonType' ] == 'KeyError'
    assert 'Traceback' in record[ 'details' ][ 'traceback' ]


def test_reported_keeps_the_last_error_once():
    @api.reported
    def failing():
        raise MnkvmError( 'no such thing' )
    try:
        failing()
    except MnkvmError:
        pass
    assert json.loads( api.lastError() )[ 'message' ] == 'no such thing'
    assert api.lastError() == 'null'


def test_topology_from_typescript_keeps_its_ports_keys_and_classes():
    spec = { 'nodes': [ [ 'h1', { 'kind': 'kvm,mem=512' } ],
                        [ 'h2', { 'kind': 'namespace', 'ip': '10.0.0.9/8' } ],
                        [ 's1', { 'isSwitch': True, 'kind': 'lxbr' } ] ],
             'links': [ [ 'h1', 's1', 1, { 'node1': 'h1', 'node2': 's1',
                                           'port1': 0, 'port2': 1,
                                           'kind': 'sriov', 'vlan': 300 } ],
                        [ 'h2', 's1', 1, { 'node1': 'h2', 'node2': 's1',
                                           'port1': 0, 'port2': 2,
                                           'kind': 'tc', 'bw': 10 } ],
                        [ 'h2', 's1', 2, { 'node1': 'h2', 'node2': 's1',
                                           'port1': 1, 'port2': 3 } ] ] }
    topo = api.topology( spec )
    assert topo.hosts() == [ 'h1', 'h2' ] and topo.switches() == [ 's1' ]
    assert issubclass( topo.nodeInfo( 'h1' )[ 'cls' ], KVMHost )
    assert topo.nodeInfo( 'h2' )[ 'cls' ] is Host
    assert topo.nodeInfo( 'h2' )[ 'ip' ] == '10.0.0.9/8'
    links = topo.links( sort=True, withKeys=True, withInfo=True )
    assert [ ( a, b, k, i[ 'port1' ], i[ 'port2' ] )
             for a, b, k, i in links ] == [
        ( 'h1', 's1', 1, 0, 1 ), ( 'h2', 's1', 1, 0, 2 ),
        ( 'h2', 's1', 2, 1, 3 ) ]
    assert links[ 0 ][ 3 ][ 'cls' ] is SRIOVLink
    assert links[ 0 ][ 3 ][ 'vlan' ] == 300
    assert links[ 1 ][ 3 ][ 'cls' ] is TCLink
    assert 'cls' not in links[ 2 ][ 3 ]   # the network's link class
    assert topo.port( 'h2', 's1' ) == [ ( 0, 2 ), ( 1, 3 ) ]
    assert api.topology( 'linear,2' ).hosts() == [ 'h1', 'h2' ]


def test_docker_hosts_get_their_class_and_tuples():
    opts, cls = api.classOf( 'host', {
        'kind': 'docker', 'dimage': 'web:1',
        'port_bindings': { '80': [ '127.0.0.1', 8080 ], '81': 8081,
                           '82': [ 8082, [ '::1', 8083 ] ] } } )
    assert cls is Docker
    assert opts == { 'dimage': 'web:1', 'port_bindings': {
        '80': ( '127.0.0.1', 8080 ), '81': 8081,
        '82': [ 8082, ( '::1', 8083 ) ] } }
    assert api.classOf( 'link', { 'bw': 1 } ) == ( { 'bw': 1 }, None )


def test_values_cross_as_json():
    assert api.encode( [ 1, ( 2, 'a' ), { 3: None } ] ) == [
        1, [ 2, 'a' ], { '3': None } ]


class Listener( object ):
    "What TypeScript gives showProgress: an object whose event() takes one."

    def __init__( self, events ):
        self.events = events

    def event( self, eventJson ):
        self.events.append( json.loads( eventJson ) )


def test_mininet_log_and_notices_are_progress_events():
    events = []
    level = lg.level
    try:
        api.showProgress( Listener( events ), 'warning' )
        assert lg.ch.level == logging.WARNING   # what stderr shows
        lg.info( '*** Adding hosts:\n' )
        lg.output( 'h1 ' )
        lg.debug( 'not an event\n' )
        say( [ { 'level': 'warn', 'line': '*** mnkvm: a notice' } ] )
    finally:
        for handler in [ h for h in lg.handlers
                         if isinstance( h, api.Progress ) ]:
            lg.removeHandler( handler )
        lg.setLevel( level )
        lg.ch.setLevel( level )
    assert events == [
        { 'kind': 'log', 'level': 'info', 'text': '*** Adding hosts:\n' },
        { 'kind': 'log', 'level': 'output', 'text': 'h1 ' },
        { 'kind': 'notice', 'level': 'warn', 'line': '*** mnkvm: a notice' } ]

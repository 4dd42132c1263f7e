"""cmd() fidelity on KVM hosts: prints one JSON object of results for the
mocha test to check. Arguments: KVM host options (e.g. backend=libvirt)."""
import json
import sys
from functools import partial
from signal import SIGINT
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo
from mnkvm import KVMHost

options = dict( arg.split( '=', 1 ) for arg in sys.argv[ 1: ] )
net = Mininet( topo=SingleSwitchTopo( 2 ), host=partial( KVMHost, **options ),
               switch=LinuxBridge,
               controller=None )
net.start()
h1, h2 = net.get( 'h1', 'h2' )
r = {}
r[ 'multiline' ] = h1.cmd( 'printf "a\\nb\\nc\\n"' )
r[ 'quoting' ] = h1.cmd( "echo 'it'\"'\"'s' \"$((6*7))\" '$HOME' \\\\" )
big = h1.cmd( 'head -c 1000000 /dev/zero | tr "\\0" x' )
r[ 'bigLen' ] = len( big )
r[ 'bigAllX' ] = set( big ) <= { 'x' }
r[ 'exitCode' ] = h1.cmd( 'false; echo $?' )
h1.sendCmd( 'sleep 0.5; echo done' )
r[ 'waiting' ] = h1.waiting
r[ 'sendCmdOutput' ] = h1.waitOutput()
r[ 'bgEcho' ] = h1.cmd( 'sleep 30 &' )
r[ 'bgPid' ] = h1.lastPid
r[ 'bgAlive' ] = h1.cmd( 'kill -0 %d && echo alive' % r[ 'bgPid' ] )
h1.cmd( 'kill %d' % r[ 'bgPid' ] )
r[ 'hostname' ] = h1.cmd( 'hostname' )
r[ 'ifname' ] = h1.cmd( 'ls /sys/class/net' )
r[ 'ip' ] = h1.IP()
r[ 'ipInGuest' ] = h1.cmd( 'ip -4 -o addr show dev h1-eth0' )
r[ 'ping' ] = h1.cmd( 'ping -c1 -W2', h2.IP() )
p = h1.popen( [ 'sh', '-c', 'echo out; echo err >&2; exit 3' ] )
out, err = p.communicate()
r[ 'popen' ] = [ out.decode(), err.decode(), p.returncode ]
r[ 'pexec' ] = list( h1.pexec( 'echo', 'a b' ) )
# a signal reaches the popen's process in the guest, as a namespace host's
# (sent to ssh, it would end ssh and hang the process up: no 'got INT')
p = h1.popen( [ 'sh', '-c', 'trap "echo got INT; exit 5" INT; echo ready; '
                'while :; do sleep 0.1; done' ] )
ready = p.stdout.readline()
p.send_signal( SIGINT )
out, _ = p.communicate( timeout=30 )
r[ 'signal' ] = [ ready.decode(), out.decode(), p.returncode ]
h1.setMAC( '00:00:00:00:0a:01' )
r[ 'mac' ] = h1.MAC()
r[ 'macInGuest' ] = h1.cmd( 'cat /sys/class/net/h1-eth0/address' )
h1.setDefaultRoute( 'dev h1-eth0' )
r[ 'route' ] = h1.cmd( 'ip route show default' )
r[ 'intfUp' ] = h1.intfIsUp()
print( 'RESULT ' + json.dumps( r ) )
net.stop()

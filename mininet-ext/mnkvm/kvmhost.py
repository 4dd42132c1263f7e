"""KVMHost: a Mininet host that is a QEMU/KVM virtual machine.

The VM runs behind an ordinary Mininet namespace (self.ns, a plain Node):
Mininet's veth ends live in that namespace, and the engine wires each one
to a virtio NIC of the VM with tc mirred redirects. Inside the guest the NIC
carries the same name (h1-eth0), so Mininet's ifconfig/ip/tc commands,
sent through cmd(), configure the guest. cmd(), sendCmd(), monitor() and
waitOutput() are Mininet's own, running over the guest's virtio console
(a real fd, as Mininet's CLI polls it); popen() runs over SSH on a
management link private to the namespace.

On a server (mnkvm --servers, server= as the cluster edition's nodes take
it), the namespace is a node there (servernode.py), the VM a domain of the
server's libvirtd, and the console reaches here over the run's SSH."""

import functools
import itertools
import logging
import re
import select
import shlex
import socket
from signal import SIGKILL
from subprocess import DEVNULL, Popen, TimeoutExpired, call
from time import time

import mininet.link
import mininet.net
import mininet.term
from mininet.log import debug, lg
from mininet.node import Host, Node
from mininet.term import makeTerm
from mininet.util import makeIntfPair, moveIntf

from mnkvm import engine
from mnkvm.servernode import onServers, serverOf, withServer
from mnkvm.vxlan import tunnel
from mnkvm.engine import MnkvmError

# A background job's notice, possibly cut short: '[1] 1234\r\n'
JOBNOTICE = re.compile( r'(^|\n)\[\d+\] \d+(\r\n?)?$' )


class Namespace( Node ):
    """The namespace behind a KVMHost, where its veths, taps and QEMU live.
       (A class of its own: Node.checkSetup() marks the class it sets up,
       and a bare Node would mark every class, OVSSwitch's setup included.)"""


class GuestPopen( Popen ):
    """The local Popen of a process in a KVM host's guest (ssh, running
       it): a signal other than SIGKILL goes to the process in the guest,
       as it would to a namespace host's. (Sent to ssh, it would end ssh,
       and hang the guest's process up: ping would print no statistics.)"""

    def __init__( self, cmd, killCmd, **params ):
        "killCmd: the command that sends the signal (its $0) in the guest."
        self.killCmd = killCmd
        Popen.__init__( self, cmd, **params )

    def send_signal( self, sig ):
        "Signal the process in the guest; where that fails, ssh here."
        if sig != SIGKILL and self.poll() is None and self.signalGuest( sig ):
            return
        Popen.send_signal( self, sig )

    def signalGuest( self, sig ):
        """Whether sig reached the process in the guest (or it has ended
           there); not where it has not started yet."""
        try:
            return call( self.killCmd + [ str( int( sig ) ) ],
                         stdout=DEVNULL, stderr=DEVNULL, timeout=10 ) == 0
        except TimeoutExpired:
            return False


class KVMHost( Host ):
    "A host that is a virtual machine (see module docstring)."

    # Numbers for the pid files of popen()'s processes in the guests
    popenIds = itertools.count( 1 )

    def __init__( self, name, server=None, serverIP=None, user=None,
                  **params ):
        """The KVM host options (mem, cpus, accel, image, bootTimeout, boot,
           share, cores: see `mnkvm --help` and docs/kvm-hosts.md) are checked
           and completed by their one definition, in the engine (options.ts);
           server, serverIP, user: where it runs, as the cluster edition's
           RemoteMixin takes them from MnkvmCluster's placement (without
           serverIP, as in a run without --servers: this machine, and
           server= is ignored, as Host ignores it); the other parameters
           are Host's."""
        self.isRemote = serverIP is not None
        self.server = server if self.isRemote else None
        self.serverParams = ( dict( server=server, serverIP=serverIP,
                                    user=user ) if self.isRemote else {} )
        names = optionNames()
        given = { key: params.pop( key ) for key in list( params )
                  if key in names }
        self.vmOptions = engine.kvmHostOptions( given )
        self.bootTimeout = self.vmOptions[ 'bootTimeout' ]
        # (with tune=latency the engine lays out the VM on its cores)
        if ( self.vmOptions[ 'cores' ] is not None and
             self.vmOptions[ 'tune' ] == 'none' ):
            params[ 'cores' ] = self.vmOptions[ 'cores' ]   # for config()
        self.ns, self.console, self.booted = None, None, False
        self.stopped = False
        self.restored = False
        self.ssh, self.vmPid, self.tuned = None, None, None
        self.popens = []   # processes of ours on this machine: ssh, terminals
        Host.__init__( self, name, **params )

    # Start-up: the namespace now, the VM in the background (the engine
    # starts guests in parallel), the guest's shell when first needed

    def startShell( self, mnopts=None ):
        "Start our namespace and, behind it, the VM, without waiting for it."
        nsClass = onServers( Namespace ) if self.isRemote else Namespace
        self.ns = nsClass( self.name, inNamespace=True, **self.serverParams )
        self.pid, self.shell = self.ns.pid, self.ns.shell
        try:
            # (the shell here: the namespace's, or its ssh to the server)
            engine.recordShell( self.name, self.shell.pid )
            say( engine.startVm( self.name, self.pid, self.vmOptions,
                                 server=self.server ) )
        except BaseException:
            self.terminate()
            raise
        self.execed, self.lastCmd, self.lastPid = False, None, None
        self.readbuf, self.waiting = '', False

    def waitBooted( self ):
        """Wait for the VM (the engine gives the guest its identity and
           names its NICs), then connect to the guest's shell."""
        if self.booted:
            return
        vm = engine.vmReady( self.name )
        say( vm[ 'notices' ] )
        # (pid: None where the VM runs elsewhere)
        self.ssh, self.vmPid = vm[ 'ssh' ], vm[ 'pid' ]
        self.tuned = vm[ 'tuned' ]
        self.restored = vm[ 'restored' ]
        self.console = socket.socket( socket.AF_UNIX, socket.SOCK_STREAM )
        self.console.connect( vm[ 'console' ] )
        # From here on Mininet's shell protocol runs over the guest console
        self.stdin = self.stdout = self.console
        self.pollOut = select.poll()
        self.pollOut.register( self.stdout )
        self.outToNode[ self.stdout.fileno() ] = self
        self.inToNode[ self.stdin.fileno() ] = self
        self.syncShell()
        debug( '%s: guest shell ready\n' % self.name )
        self.booted = True

    def syncShell( self ):
        """Read the console up to a fresh prompt: the shell's first prompt
           may have come before we connected, or not (a clone printed it in
           its template). The shell echoes a number it computes, so neither
           an old prompt nor an echo of the line can pass for the answer;
           a line sent before the shell opened the console is lost, so it is
           sent again each second (the last answer comes after all others)."""
        deadline = time() + self.bootTimeout
        data, sent = '', 0
        while True:
            sent += 1
            self.write( 'echo mnkvm-sync-$(( %d + 1 ))\n' % sent )
            answer = re.compile( r'mnkvm-sync-%d\r?\n\x7f$' % ( sent + 1 ) )
            retry = min( time() + 1, deadline )
            while not answer.search( data ) and time() < retry:
                if not self.readable( max( 0, retry - time() ) ):
                    continue
                chunk = self.read( 1024 )
                if not chunk:
                    raise MnkvmError( engine.shellFailure( self.name, None ) )
                data += chunk
            if answer.search( data ):
                return
            if time() >= deadline:
                raise MnkvmError( engine.shellFailure( self.name,
                                                       self.bootTimeout ) )

    def readable( self, timeout ):
        """Is console output waiting (within timeout s)? (Mininet's pollOut
           also reports POLLOUT, so its poll() never times out.)"""
        return select.select( [ self.console ], [], [], timeout )[ 0 ]

    # Mininet's hooks

    def config( self, cores=None, **params ):
        """Host.config; cores: pin the VM to these cores of the machine
           (a number or a list), as CPULimitedHost does for its shell."""
        result = Host.config( self, **params )
        if cores is not None:
            self.setCPUs( cores )
        return result

    def setCPUs( self, cores ):
        "Pin the VM (every thread of it) to cores."
        self.waitBooted()
        engine.pinVm( self.name, sorted( set(
            cores if isinstance( cores, ( list, tuple ) ) else [ cores ] ) ) )

    @property
    def isolatedCpus( self ):
        """tune=latency: the guest's vCPUs isolated for measured processes
           (vCPU 0 keeps the guest's housekeeping), e.g.
           h1.cmd( 'taskset -c %d sockperf ...' % h1.isolatedCpus[ 0 ] );
           [] for an untuned host."""
        self.waitBooted()
        return self.tuned[ 'isolated' ] if self.tuned else []

    def read( self, size=1024 ):
        """Node.read; but a background job's '[1] 1234' notice is read
           together with the pid marker after it, as monitor() expects
           (a pty delivers them at once, the virtio console in pieces)."""
        data = Host.read( self, size )
        while ( JOBNOTICE.search( data ) and chr( 1 ) not in data and
                chr( 127 ) not in data and self.readable( 1 ) ):
            data += Host.read( self, size )
        return data

    def sendCmd( self, *args, **kwargs ):
        "Send a command to the guest shell (once it has booted)."
        self.waitBooted()
        Host.sendCmd( self, *args, **kwargs )

    def popen( self, *args, **kwargs ):
        """Return a local Popen of a process that runs in the guest (over
           SSH); it is recorded, and ends when the host stops. Its pid in
           the guest is written to a file there, so that a signal reaches
           it (see GuestPopen)."""
        self.waitBooted()
        pidFile = '/run/mnkvm-popen-%d' % next( KVMHost.popenIds )
        # ssh joins its arguments into one command line: quote each (bash's
        # @Q); the guest's shell writes its pid (quietly: an image without
        # /run has signals go to ssh, as before), then becomes the command
        ssh = ( 'exec mnexec -da "$0" %s "{ echo \\$\\$ >%s; } 2>/dev/null; '
                'exec ${*@Q}"' % ( self.sshCommand( '-T' ), pidFile ) )
        if 'mncmd' not in kwargs:
            kwargs.update( mncmd=[ 'bash', '-c', ssh, str( self.pid ) ],
                           guestPidFile=pidFile )
        popen = Host.popen( self, *args, **kwargs )
        self.track( popen )
        return popen

    def _popen( self, cmd, guestPidFile=None, **params ):
        """Node._popen; on a server, cmd runs there, over the run's ssh
           (quoted whole: ssh joins its arguments into one command line)."""
        if self.isRemote:
            return self.ns._popen( [ shlex.join( cmd ) ], tt=False, **params )
        if guestPidFile is None:
            return Host._popen( self, cmd, **params )
        # (a process already gone counts as signalled: its last output may
        # still be on its way through ssh, which a signal here would cut)
        kill = ( 'exec mnexec -da %d %s "p=\\$(cat %s) && { kill -$0 \\$p '
                 '2>/dev/null || ! kill -0 \\$p 2>/dev/null; }"' % (
                     self.pid, self.sshCommand( '-T' ), guestPidFile ) )
        return GuestPopen( cmd, [ 'bash', '-c', kill ], **params )

    def rcmd( self, *cmd, **opts ):
        "RemoteMixin.rcmd: a command in the root namespace of our server."
        return self.ns.rcmd( *cmd, **opts )

    def __repr__( self ):
        text = Host.__repr__( self )
        return withServer( text, self.server ) if self.isRemote else text

    def track( self, popen ):
        "Record a process of ours on this machine (its pid stays ssh's: exec)."
        engine.recordHostProcess( self.name, popen.pid )
        self.popens.append( popen )

    def sshCommand( self, *options ):
        """The ssh command line (to run in our namespace) that logs into the
           VM, with the engine's options for it (src/engine/ssh.ts); a tuned
           host's on its housekeeping cores, off the dedicated ones."""
        pin = ( 'taskset -c %s ' % ','.join(
            str( c ) for c in self.tuned[ 'housekeeping' ] )
            if self.tuned else '' )
        return '%sssh %s %s %s' % ( pin, shlex.join( self.ssh[ 'options' ] ),
                                    ' '.join( options ), self.ssh[ 'target' ] )

    def addIntf( self, intf, port=None, moveIntfFn=moveIntf ):
        """Add intf in our namespace, then give the guest a NIC wired as
           intf says (nicAttachment(), see src/engine/backend.ts): by
           default a tap joined to intf's veth end."""
        Host.addIntf( self, intf, port=port, moveIntfFn=moveIntfFn )
        nic = getattr( intf, 'nicAttachment', lambda: None )()
        engine.attachNic( self.name, nic or
                          { 'kind': 'tap', 'intf': intf.name } )
        if self.booted:
            # a link added to a running network: the NIC is there and named
            # before the next cmd() configures it (while the network is built,
            # the first cmd()'s waitBooted waits)
            say( engine.vmReady( self.name )[ 'notices' ] )

    def delIntf( self, intf ):
        "Forget intf, unplug its NIC and delete its veth in our namespace."
        Host.delIntf( self, intf )
        if self.ns and self.ns.shell:
            self.ns.cmd( 'ip link del', intf.name )
            if not self.stopped:
                engine.detachNic( self.name, intf.name )

    def cmd( self, *args, **kwargs ):
        """Node.cmd; once the guest is stopped (the network is stopping)
           there is nothing to run a command in, and nothing to do:
           Mininet's Link.stop sends `ip link del` for each interface, which
           delIntf does in our namespace."""
        if self.stopped:
            return ''
        return Host.cmd( self, *args, **kwargs )

    def stopGuest( self ):
        """Stop the VM (in the background), close its console and end the
           processes started for it here."""
        if not self.stopped:
            engine.stopVm( self.name )
            self.stopped = True
        if self.console:
            self.console.close()
            self.console = None
        for popen in self.popens:
            if popen.poll() is None:
                popen.kill()
        self.popens = []

    def terminate( self ):
        "Stop the VM, then the namespace behind it."
        if self.ns is None:
            return
        self.stopGuest()
        self.ns.terminate()
        self.shell = None

    def cleanup( self ):
        "Nothing of Node's pty to close: terminate() did the work."


def say( notices ):
    """The engine's lines for the user, through Mininet's log at their
       level (info: -v output hides them; warn: what works less well),
       each marked as a notice (the TypeScript API's progress events tell
       them from Mininet's own lines: api.py's Progress)."""
    for notice in notices:
        lg.log( logging.WARNING if notice[ 'level' ] == 'warn'
                else logging.INFO, notice[ 'line' ] + '\n',
                extra={ 'notice': notice } )


@functools.lru_cache( maxsize=None )
def optionNames():
    "The KVM host options' names, from their definition in the engine."
    return frozenset( engine.kvmHostOptionNames() )


def recordedMakeIntfPair( intf1, intf2, addr1=None, addr2=None, node1=None,
                          node2=None, deleteIntfs=True, runCmd=None ):
    """Mininet's makeIntfPair, with three changes: the ends that will live
       in a root namespace are claimed and recorded before they exist (so
       that mnkvm can remove them whatever happens next, and no other run's
       interface of the same name), on the server their node runs on where
       it runs on one, and given back if the pair is not made; a KVMHost's
       end is made in its namespace, not by node.cmd (which for a KVMHost
       is the guest); and nodes on two servers are linked by a VXLAN
       tunnel (vxlan.py)."""
    server1, server2 = serverOf( node1 ), serverOf( node2 )
    if server1 != server2:
        return tunnel( intf1, intf2, addr1, addr2, node1, node2 )
    rootEnds = [ intf for intf, node in ( ( intf1, node1 ), ( intf2, node2 ) )
                 if node is None or not node.inNamespace ]
    for intf in rootEnds:
        engine.recordIntf( intf, server=server1 )
    node1 = node1.ns if isinstance( node1, KVMHost ) else node1
    node2 = node2.ns if isinstance( node2, KVMHost ) else node2
    try:
        return makeIntfPair( intf1, intf2, addr1, addr2, node1, node2,
                             deleteIntfs=deleteIntfs, runCmd=runCmd )
    except BaseException:
        # not made: the names are not ours to remove (a veth pair is made
        # whole or not at all)
        for intf in rootEnds:
            engine.releaseIntf( intf, server=server1 )
        raise


def guestMakeTerm( node, title='Node', term='xterm', display=None,
                   cmd='bash' ):
    """Mininet's makeTerm, with the terminal recorded (it ends with the
       run); a KVMHost's terminal runs on this machine, in the host's
       namespace, logged into the guest (the guest has no X)."""
    if isinstance( node, KVMHost ):
        if node.isRemote:
            raise MnkvmError( '%s: terminals of KVM hosts on servers are not '
                              'there yet: run commands with `%s CMD` in the '
                              'CLI' % ( node.name, node.name ) )
        node.waitBooted()
        terms = makeTerm( node.ns, title, term, display,
                          cmd='%s %s' % ( node.sshCommand( '-t' ), cmd ) )
        for popen in terms:
            node.track( popen )
        return terms
    terms = makeTerm( node, title, term, display, cmd )
    for popen in terms:
        engine.recordHostProcess( node.name, popen.pid )
    return terms


def noScreenCleanup():
    """Mininet's cleanUpScreens runs `pkill -9 -f mnexec.*socat`, which kills
       other users' processes too: mnkvm's terminals are stopped by pid."""


# The places mnkvm redirects Mininet at run time, each a name Mininet's code
# looks up in its own module: Link.makeIntfPair calls mininet.link's
# makeIntfPair; makeTerms (net -x, the CLI's xterm) calls mininet.term's
# makeTerm; Mininet.startTerms/stopXterms call mininet.net's cleanUpScreens.
mininet.link.makeIntfPair = recordedMakeIntfPair
mininet.term.makeTerm = guestMakeTerm
mininet.net.cleanUpScreens = noScreenCleanup

"""mnkvm's benchmarks, measured where the network lives. Each runs the
same topology (single,N on a Linux bridge) with namespace hosts (Mininet's
Host), with KVM hosts (KVMHost) and, asked for, with KVM hosts on SR-IOV
links (SRIOVLink), one after the other in one run; an SR-IOV kind's
results say where its links ran (hardware, or emulated).

startup: time from start to pingall-ready (every host answers cmd() and the
  network is started), the CPU time each host's processes used by then,
  memory (RSS of each host's processes, and new memory
  taken from the machine: the fall of MemAvailable), a ring of pings, the
  time one more host takes to answer, and shutdown time.
latency: sockperf ping-pong (UDP request/response at a constant rate) from
  h1 to h2; every round trip time, after sockperf's warm-up, is kept, with
  the rate asked and the rate sockperf achieved; ping as a coarse check;
  then, as long again, a timer's wake-up latency in h1 (cyclictest's
  histogram).
throughput: iperf3 TCP and UDP, h1 to h2 and back.
isolation: the latency probe (and the timer) while h3 and h4 spin the CPU
  and h5 sends a bulk TCP flow to h6.

A kind may give KVM host options (mnkvm bench --kinds kvm:tune=latency:
cpus=2): h1, the host measured from, gets them; the network's other hosts
are the kind's plain hosts (a 2-core machine can dedicate one core). Where
h1 isolates vCPUs for measured processes (tune=latency), the probes run on
the first of them.

Over servers (mnkvm bench --servers), the networks run there (KVM hosts
under the servers' libvirtd): new memory is the fall of the servers'
MemAvailable, and the RSS and CPU time of hosts' processes, which run
there, are not measured (0)."""

import dataclasses
import json
import os
import re
import subprocess
import sys
from time import sleep, time
from typing import get_args, get_origin

from mininet.log import setLogLevel
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo
from mininet.util import specialClass

from mnkvm import engine
from mnkvm.cluster import spread
from mnkvm.kvmhost import KVMHost
from mnkvm.mn import customClasses
from mnkvm.net import MnkvmNet

# A virtual testbed server (src/testbed/server.ts) has this from QEMU's
# fw_cfg: its VFs are QEMU's emulated igb's, real path, no real timings
TESTBED = '/sys/firmware/qemu_fw_cfg/by_name/opt/mnkvm/hostname'


@dataclasses.dataclass( frozen=True )
class Kind:
    """A kind of host measured: its name, its host and link classes as
       mn names them (src/bench/results.ts: KINDS, where kinds are defined),
       the KVM host options its measured host (MEASURED) gets, checked by
       their definition ({}: none), and the label its results go under."""
    name: str
    host: str
    link: str
    options: dict[ str, object ]
    label: str

    def classes( self ):
        "{ 'host': class, 'link': class }"
        return customClasses( dict( host=self.host, link=self.link ) )

    @property
    def kvm( self ):
        "Are its hosts KVM hosts?"
        return issubclass( self.classes()[ 'host' ], KVMHost )


# The unmeasured network main() starts first, once per image (so that the
# image's snapshot template exists before the first measurement): one KVM
# host on a plain link, no VF claimed
WARMUP = Kind( name='warm-up', host='kvm', link='default', options={},
               label='warm-up' )

# The host every scenario measures from (sockperf's client, cyclictest's
# host, iperf3's client, the first of startup's hosts): a kind's host
# options are its alone
MEASURED = 'h1'

# The timer probe (cyclictest, Debian's rt-tests): one thread, SCHED_FIFO
# at this priority (above the kernel's threaded interrupts, 50, as rt-tests'
# own examples run it), woken every TIMER_INTERVAL_US, its lateness counted
# in a histogram of 1 µs bins up to TIMER_BOUND_US (later ones are counted
# as overflows, their maximum kept)
TIMER_PRIORITY = 95
TIMER_INTERVAL_US = 200
TIMER_BOUND_US = 100000


@dataclasses.dataclass( frozen=True )
class BenchSpec:
    """The measurements asked for: src/bench/spec.ts's BenchSpec, which
       builds it; readSpec() reads it."""
    scenarios: list[ str ]   # startup, latency, throughput, isolation
    kinds: list[ Kind ]
    images: list[ str ]      # each KVM kind is measured once per image
    sizes: list[ int ]       # startup: host counts
    repeat: int
    rate: int                # latency probe: messages/s
    duration: int            # latency probe: seconds per run
    iperfDuration: int       # throughput: seconds per iperf3 flow
    bootTimeout: int         # KVMHost's bootTimeout (--boot-timeout)


def fromJson( cls, value, name ):
    """value (parsed JSON; name: where in the spec) as cls: a dataclass
       (an object with each of its fields and no other), list[ X ], int or
       str; anything else is a ValueError that names it."""
    def wrong( part, what ):
        return ValueError( 'mnkvm bench: %s %s (src/bench/spec.ts and '
                           'mnkvm/bench.py disagree)' % ( part, what ) )
    if dataclasses.is_dataclass( cls ):
        if not isinstance( value, dict ):
            raise wrong( name, 'is %s, not an object' % json.dumps( value ) )
        names = [ f.name for f in dataclasses.fields( cls ) ]
        for key in names:
            if key not in value:
                raise wrong( '%s.%s' % ( name, key ), 'is missing' )
        for key in value:
            if key not in names:
                raise wrong( '%s.%s' % ( name, key ),
                             'is not a field of %s' % cls.__name__ )
        return cls( **{ key: fromJson( field.type, value[ key ],
                                       '%s.%s' % ( name, key ) )
                        for key, field in zip(
                            names, dataclasses.fields( cls ) ) } )
    if cls is object:
        return value   # (a host option's value: its definition checks it)
    if get_origin( cls ) is dict:
        if not isinstance( value, dict ):
            raise wrong( name, 'is %s, not an object' % json.dumps( value ) )
        return { key: fromJson( get_args( cls )[ 1 ], item,
                                '%s.%s' % ( name, key ) )
                 for key, item in value.items() }
    if get_origin( cls ) is list:
        if not isinstance( value, list ):
            raise wrong( name, 'is %s, not a list' % json.dumps( value ) )
        return [ fromJson( get_args( cls )[ 0 ], item,
                           '%s[%d]' % ( name, i ) )
                 for i, item in enumerate( value ) ]
    # (JSON's true is no number here, though Python's bool is an int)
    if isinstance( value, bool ) or not isinstance( value, cls ):
        raise wrong( name, 'is %s, not %s' % ( json.dumps( value ),
                                               cls.__name__ ) )
    return value


def readSpec( specJson ):
    """The BenchSpec in specJson (JSON, as src/bench/spec.ts builds it),
       checked without starting anything: a ValueError names what is amiss,
       and mn's error a class it does not know. (Host options' values are
       checked by their definition, in the engine, when a host takes them.)"""
    spec = fromJson( BenchSpec, json.loads( specJson ), 'spec' )
    for i, kind in enumerate( spec.kinds ):
        kind.classes()
        if kind.options and not kind.kvm:
            raise ValueError( 'mnkvm bench: spec.kinds[%d].options: %s '
                              'hosts take none (src/bench/spec.ts and '
                              'mnkvm/bench.py disagree)' % ( i, kind.name ) )
    return spec


def kibField( path, field ):
    "A 'Field:  1234 kB' line of a /proc file, in KiB; 0 if missing."
    try:
        with open( path ) as f:
            for line in f:
                if line.startswith( field + ':' ):
                    return int( line.split()[ 1 ] )
    except OSError:
        pass   # the process is gone
    return 0


def rssKiB( pid ):
    "VmRSS of a process, 0 if it is gone."
    return kibField( '/proc/%d/status' % pid, 'VmRSS' )


def cpuSeconds( pid ):
    "User plus system CPU time a process has used, 0 if it is gone."
    try:
        with open( '/proc/%d/stat' % pid ) as f:
            fields = f.read().rsplit( ')', 1 )[ 1 ].split()
    except OSError:
        return 0
    return ( int( fields[ 11 ] ) + int( fields[ 12 ] ) ) / os.sysconf(
        'SC_CLK_TCK' )


def ringPing( hosts ):
    """Each host pings the next (pingAll's N*(N-1) pings take minutes with
       50 emulated guests); returns the % dropped."""
    if len( hosts ) < 2:
        return 0
    pairs = [ ( h, hosts[ ( i + 1 ) % len( hosts ) ] )
              for i, h in enumerate( hosts ) ]
    lost = sum( '1 received' not in src.cmd( 'ping -c1 -W5', dst.IP() )
                for src, dst in pairs )
    return 100.0 * lost / len( pairs )


def stopNetwork( net ):
    """Stop net and wait until every VM has exited (they stop in the
       background)."""
    net.stop()
    engine.settle()


def waitListening( host, proto, port, timeout=20 ):
    """Wait until a socket in host listens on proto (tcp/udp) port (a TCP
       socket in state LISTEN: connections of an earlier server on the port
       do not count)."""
    for _ in range( int( timeout * 10 ) ):
        table = host.cmd( 'cat /proc/net/%s /proc/net/%s6 2>/dev/null' %
                          ( proto, proto ) )
        for row in table.split( '\n' ):
            fields = row.split()
            if ( len( fields ) > 3 and
                 fields[ 1 ].endswith( ':%04X' % port ) and
                 ( proto == 'udp' or fields[ 3 ] == '0A' ) ):
                return
        sleep( 0.1 )
    raise RuntimeError( '%s: nothing listens on %s port %d' %
                        ( host.name, proto, port ) )


def background( host, command ):
    "Start command in host, in the background; returns its pid."
    host.cmd( command, '>/dev/null 2>&1 &' )
    return host.lastPid


def sentRate( log ):
    """Messages/s sockperf sent in the window whose round trips it kept
       (after its warm-up, before its cool-down), from the [Valid Duration]
       line of its --full-log: RunTime spans from the first of SentMessages
       sent to the last answered, so SentMessages - 1 intervals (not
       SentMessages: that would add 1/SentMessages, 7 % at 15 messages)."""
    found = re.search( r'\[Valid Duration\] RunTime=([\d.]+) sec; '
                       r'SentMessages=(\d+)', log )
    seconds, sent = ( float( found.group( 1 ) ), int( found.group( 2 ) )
                      ) if found else ( 0, 0 )
    if seconds <= 0 or sent < 2:
        raise RuntimeError( 'sockperf ping-pong logged no measured window' )
    return ( sent - 1 ) / seconds


def probe( client, server, rate, duration ):
    """sockperf ping-pong from client to server at rate messages/s for
       duration s; returns the round trip times (µs) after sockperf's
       warm-up, the rate it achieved (messages/s) and ping's coarse summary.
       The full log goes to /tmp, which KVM hosts share with the machine.
       Ping-pong keeps one request in flight: where a round trip takes
       longer than 1/rate, the path sets the rate, and the result says so."""
    port = 11111
    pid = background( server, onProbeCpu( server, 'sockperf server -i %s -p %d'
                                          % ( server.IP(), port ) ) )
    log = '/tmp/mnkvm-bench-%d-%s.csv' % ( os.getpid(), client.name )
    try:
        waitListening( server, 'udp', port )
        # No --no-rdtsc: sockperf before 3.9 (Debian 12 has 3.7) then
        # computes its send interval and warm-up in TSC ticks and counts
        # them as nanoseconds, so it sends at rate / (TSC GHz): 385 of 1000
        # messages/s at 2.6 GHz, whatever the hosts (Mellanox/sockperf#77,
        # fixed in 3.9). With the TSC, which sockperf calibrates against
        # the monotonic clock as it starts, it sends at the rate asked.
        out = client.cmd( 'timeout %d %s >/dev/null 2>&1; echo exit=$?' % (
            duration + 60, onProbeCpu( client, (
                'sockperf ping-pong -i %s -p %d -t %d --mps %d --full-rtt '
                '--full-log %s' % ( server.IP(), port, duration, rate,
                                    log ) ) ) ) )
        if 'exit=0' not in out:
            raise RuntimeError( 'sockperf ping-pong failed on %s: %s' %
                                ( client.name, out.strip() ) )
        with open( log ) as f:
            text = f.read()
        samples = [ float( row.split( ',' )[ 3 ] )
                    for row in text.split( '\n' ) if re.match( r'\d+,', row ) ]
        achieved = sentRate( text )
    finally:
        server.cmd( 'kill %d' % pid )
        if os.path.exists( log ):
            os.unlink( log )
    ping = client.cmd( 'ping -q -c 20 -i 0.05 -W 2', server.IP() )
    found = re.search( r'= ([\d.]+)/([\d.]+)/([\d.]+)', ping )
    coarse = ( dict( minMs=float( found.group( 1 ) ),
                     avgMs=float( found.group( 2 ) ),
                     maxMs=float( found.group( 3 ) ) ) if found else None )
    return samples, achieved, coarse


def probeCpu( host ):
    """The vCPU a host's measured processes run on: the first its guest
       isolates for them (KVMHost.isolatedCpus: tune=latency), or None
       (wherever the scheduler puts them; a namespace host has none)."""
    cpus = getattr( host, 'isolatedCpus', [] )
    return cpus[ 0 ] if cpus else None


def onProbeCpu( host, command ):
    "command, on host's probe CPU where it has one (taskset -c N command)."
    cpu = probeCpu( host )
    return command if cpu is None else 'taskset -c %d %s' % ( cpu, command )


def cyclictestHistogram( text ):
    """The figures of cyclictest's output for one thread with --histogram
       and --quiet (its zero bins left out or not): histogramUs ([ [ µs,
       wake-ups ], ... ], ascending, counts above 0), overflows (wake-ups
       past the histogram), minUs, avgUs and maxUs (its summary lines,
       exact). A ValueError says what is amiss where the summary is missing
       (cyclictest failed: text says why) or the bins do not add up to its
       total (output lost on the way)."""
    bins, summary = [], {}
    for line in text.splitlines():
        found = re.match( r'(\d+) (\d+)\s*$', line )
        if found and int( found.group( 2 ) ):
            bins.append( [ int( found.group( 1 ) ), int( found.group( 2 ) ) ] )
        found = re.match( r'# (Total|Min Latencies|Avg Latencies|'
                          r'Max Latencies|Histogram Overflows): *(\d+)', line )
        if found:
            summary[ found.group( 1 ) ] = int( found.group( 2 ) )
    if len( summary ) < 5:
        raise ValueError( 'cyclictest gave no histogram: %s' %
                          ' '.join( text.split() )[ -300: ] )
    if sum( count for _, count in bins ) != summary[ 'Total' ]:
        raise ValueError( "cyclictest's histogram holds %d wake-ups, its "
                          'total says %d' % ( sum( c for _, c in bins ),
                                              summary[ 'Total' ] ) )
    return dict( histogramUs=sorted( bins ),
                 overflows=summary[ 'Histogram Overflows' ],
                 minUs=summary[ 'Min Latencies' ],
                 avgUs=summary[ 'Avg Latencies' ],
                 maxUs=summary[ 'Max Latencies' ] )


def timerLatency( host, seconds ):
    """A timer's wake-up latency in host for seconds (cyclictest, see
       TIMER_PRIORITY): the TimerRun of src/bench/results.ts. On a tuned
       host its thread runs on the probe CPU, its main thread on vCPU 0
       (the guest's housekeeping); the histogram's empty bins stay in the
       host (through a KVM host's console they would be 100,000 lines)."""
    cpu = probeCpu( host )
    pin = '' if cpu is None else ' --affinity=%d --mainaffinity=0' % cpu
    out = host.cmd( 'timeout %d cyclictest --quiet --mlockall --threads=1 '
                    '--priority=%d --interval=%d --duration=%d '
                    '--histogram=%d%s 2>&1 | grep -v " 000000$"' % (
                        seconds + 60, TIMER_PRIORITY, TIMER_INTERVAL_US,
                        seconds, TIMER_BOUND_US, pin ) )
    # (timeout's words, Debian's or busybox's, where it finds no cyclictest)
    if re.search( r'cyclictest\W{0,3}: No such file', out ):
        raise RuntimeError(
            'cyclictest in %s: not found: a KVM host needs a default guest '
            'image built with it (mnkvm image build), a namespace host '
            "Debian's rt-tests (./setup.sh installs it)" % host.name )
    try:
        figures = cyclictestHistogram( out )
    except ValueError as e:
        raise RuntimeError( 'cyclictest in %s: %s' % ( host.name, e ) )
    return dict( intervalUs=TIMER_INTERVAL_US, priority=TIMER_PRIORITY,
                 cpu=cpu, seconds=seconds, boundUs=TIMER_BOUND_US, **figures )


def iperf( client, server, port, duration, udp, reverse ):
    """One iperf3 run, its server on port (one port per run: an earlier
       server may still be going away); returns iperf3's summary numbers.
       iperf3 now and then fails a run for no reason of the path ("control
       socket has closed unexpectedly", esnet/iperf#751 and #1766; "unable
       to create a new stream: Device or resource busy", seen here in fresh
       guests): a failed run is done once more, on another port, and the
       result says so (attempts)."""
    for attempt in ( 1, 2 ):
        background( server, onProbeCpu( server, 'iperf3 -s -1 -p %d' % port ) )
        waitListening( server, 'tcp', port )
        out = client.cmd( 'timeout %d %s' % ( duration + 60, onProbeCpu(
            client, 'iperf3 -J -c %s -p %d -t %d %s %s' % (
                server.IP(), port, duration, '-u -b 0' if udp else '',
                '-R' if reverse else '' ) ) ) )
        result = json.loads( out[ out.index( '{' ): ] )
        if 'error' not in result:
            break
        if attempt == 2:
            raise RuntimeError( 'iperf3 on %s: %s' % ( client.name,
                                                        result[ 'error' ] ) )
        port += 100
        sleep( 1 )
    end = result[ 'end' ]
    if udp:
        return dict( mbps=end[ 'sum' ][ 'bits_per_second' ] / 1e6,
                     lostPercent=end[ 'sum' ][ 'lost_percent' ],
                     jitterMs=end[ 'sum' ][ 'jitter_ms' ], attempts=attempt )
    return dict( mbps=end[ 'sum_received' ][ 'bits_per_second' ] / 1e6,
                 retransmits=end[ 'sum_sent' ].get( 'retransmits', 0 ),
                 attempts=attempt )


def imageOf( kind, image ):
    """A result's image field: KVM hosts' image (not namespace hosts'), and
       its options and the host that got them, where the kind gives some."""
    return dict( **( { 'image': image } if kind.kvm else {} ),
                 **( dict( options=kind.options, optionsOn=MEASURED )
                     if kind.options else {} ) )


def kindsAndImages( spec ):
    """spec's kinds, a KVM kind once per image of spec's images, as
       ( kind, image )."""
    return [ ( kind, image ) for kind in spec.kinds
             for image in ( spec.images if kind.kvm else [ 'default' ] ) ]


class Bench( object ):
    """One run of the benchmark: its spec (a BenchSpec) and the servers its
       networks run over (an MnkvmCluster: mnkvm bench --servers), or None."""

    def __init__( self, spec, servers ):
        self.spec = spec
        self.servers = servers

    def memAvailableKiB( self ):
        """MemAvailable from /proc/meminfo: this machine's, or the servers'
           sum."""
        if not self.servers:
            return kibField( '/proc/meminfo', 'MemAvailable' )
        total = 0
        for server in self.servers.servers[ 'servers' ]:
            out = subprocess.run(
                [ 'ssh', '-F', self.servers.servers[ 'sshConfig' ],
                  server[ 'alias' ], 'grep ^MemAvailable: /proc/meminfo' ],
                capture_output=True, text=True, timeout=30,
                check=False ).stdout
            total += int( out.split()[ 1 ] ) if out else 0
        return total

    def hostPids( self, host ):
        """The processes here that make up a host: its shell, and its VM if
           any (none for a host on a server)."""
        if self.servers:
            return []
        return [ host.pid ] + ( [ host.vmPid ]
                                if isinstance( host, KVMHost ) else [] )

    def network( self, kind, n, image='default' ):
        """A started single,n network of hosts of kind (KVM hosts: in
           image; MEASURED with the kind's options) on a Linux bridge; its
           where: { 'where': 'SR-IOV ...' } for SR-IOV links, else {}."""
        classes = kind.classes()
        host = classes[ 'host' ]
        if kind.kvm:
            # (KVM hosts on servers run under the servers' libvirtd)
            host = specialClass( host, defaults=dict(
                bootTimeout=self.spec.bootTimeout, image=image,
                **( { 'backend': 'libvirt' } if self.servers
                                             else {} ) ) )
        topo = SingleSwitchTopo( n )
        if kind.options:
            topo.setNodeInfo( MEASURED, dict( topo.nodeInfo( MEASURED ),
                                              **kind.options ) )
        net = ( self.servers or MnkvmNet )(
            topo=topo, host=host, link=classes[ 'link' ],
            switch=LinuxBridge, controller=None )
        net.start()
        made = getattr( net.links[ 0 ], 'made', None ) if net.links else None
        if self.servers:
            servers = self.servers.servers
            net.where = { 'where': 'servers %s, %s' % (
                ','.join( s[ 'name' ] for s in servers[ 'servers' ] ),
                servers[ 'placement' ] ) }
            return net
        net.where = {} if not made else { 'where': 'SR-IOV %s' % (
            'emulated' if made[ 'mode' ] == 'emulated' else '%s: PF %s' % (
                'virtual testbed' if os.path.exists( TESTBED )
                else 'hardware', made[ 'pf' ] ) ) }
        return net

    def startup( self, kind, n, repetition, image='default' ):
        """One measurement of `single,n` with hosts of kind; returns a
           dict. firstCmdSeconds: one more host added to the running
           network, from addHost to its first cmd('true') answered."""
        before = self.memAvailableKiB()
        start = time()
        net = self.network( kind, n, image )
        for host in net.hosts:
            host.cmd( 'true' )
        ready = time() - start
        newMem = before - self.memAvailableKiB()
        rss = [ sum( rssKiB( p ) for p in self.hostPids( h ) )
                for h in net.hosts ]
        cpu = [ sum( cpuSeconds( p ) for p in self.hostPids( h ) )
                for h in net.hosts ]
        dropped = ringPing( net.hosts )
        start = time()
        net.addHost( 'hx' ).cmd( 'true' )
        firstCmd = time() - start
        start = time()
        stopNetwork( net )
        return dict( kind=kind.name, hosts=n, repetition=repetition,
                     **net.where, **imageOf( kind, image ),
                     readySeconds=ready, perHostSeconds=ready / n,
                     firstCmdSeconds=firstCmd, stopSeconds=time() - start,
                     newMemoryKiB=newMem, newMemoryPerHostKiB=newMem / n,
                     rssPerHostKiB=sum( rss ) / n,
                     cpuSecondsPerHost=sum( cpu ) / n,
                     pingDroppedPercent=dropped )

    def latency( self, kind, repetition, rate, duration, loaded=False,
                 image='default' ):
        """One latency measurement: the round trips h1 -> h2, then the
           timer in h1 as long again (not beside them: both would share
           h1's probe CPU); loaded: with CPU hogs in h3, h4 and a bulk TCP
           flow h5 -> h6 throughout (the isolation scenario)."""
        net = self.network( kind, 6 if loaded else 2, image )
        h1, h2 = net.hosts[ :2 ]
        try:
            if loaded:
                h3, h4, h5, h6 = net.hosts[ 2: ]
                for hog in ( h3, h4 ):
                    background( hog, "sh -c 'while :; do :; done'" )
                background( h6, 'iperf3 -s -p 5201' )
                waitListening( h6, 'tcp', 5201 )
                # (for the round trips and the timer after them)
                background( h5, 'iperf3 -c %s -p 5201 -t %d' %
                            ( h6.IP(), 2 * duration + 60 ) )
            samples, achieved, ping = probe( h1, h2, rate, duration )
            timer = timerLatency( h1, duration )
            cpu = probeCpu( h1 )
        finally:
            stopNetwork( net )
        return dict( kind=kind.name, repetition=repetition, rate=rate,
                     **net.where, **imageOf( kind, image ),
                     achievedRate=achieved, duration=duration, loaded=loaded,
                     rttUs=samples, ping=ping, timer=timer,
                     **( {} if cpu is None else { 'probeCpu': cpu } ) )

    def throughput( self, kind, repetition, duration, image='default' ):
        "iperf3 TCP and UDP between h1 and h2, both ways."
        net = self.network( kind, 2, image )
        h1, h2 = net.hosts
        try:
            flows = {}
            for proto in ( 'tcp', 'udp' ):
                for way in ( 'h1->h2', 'h2->h1' ):
                    flows[ '%s %s' % ( proto, way ) ] = iperf(
                        h1, h2, 5202 + len( flows ), duration,
                        proto == 'udp', way == 'h2->h1' )
        finally:
            stopNetwork( net )
        return dict( kind=kind.name, repetition=repetition, duration=duration,
                     flows=flows, **net.where, **imageOf( kind, image ) )

    def plan( self ):
        """The measurements the spec asks for, in order: (scenario, what,
           run, guess, thunk); what: the kind of host (and N for startup);
           guess: roughly how many seconds it takes, until one has been
           timed."""
        spec = self.spec
        units = []
        for scenario in spec.scenarios:
            for r in range( 1, spec.repeat + 1 ):
                run = 'run %d/%d' % ( r, spec.repeat )
                for kind, image in kindsAndImages( spec ):
                    what = kind.label + ( '' if image == 'default' else
                                          ' image=' + image )
                    if scenario == 'startup':
                        units += [ ( scenario, '%s N=%d' % ( what, n ), run,
                                     n, lambda k=kind, n=n, r=r, i=image:
                                     self.startup( k, n, r, i ) )
                                   for n in spec.sizes ]
                    elif scenario == 'throughput':
                        units.append( ( scenario, what, run,
                                        4 * ( spec.iperfDuration + 3 ),
                                        lambda k=kind, r=r, i=image:
                                        self.throughput(
                                            k, r, spec.iperfDuration, i ) ) )
                    else:
                        units.append( ( scenario, what, run,
                                        2 * spec.duration + 10,
                                        lambda k=kind, r=r, s=scenario,
                                        i=image: self.latency(
                                            k, r, spec.rate, spec.duration,
                                            loaded=s == 'isolation',
                                            image=i ) ) )
        return units


def progress( done, units, took, started ):
    """One line on stderr: what runs now, what is done, about how long is
       left (each unit to come guessed from an earlier run of the same
       measurement where there is one)."""
    def guess( unit ):
        seconds = [ t[ 2 ] for t in took if t[ :2 ] == unit[ :2 ] ]
        return sum( seconds ) / len( seconds ) if seconds else unit[ 3 ]
    scenario, what, run, _, _ = units[ done ]
    left = clock( sum( map( guess, units[ done: ] ) ) )
    sys.stderr.write( '*** bench %s: %s %s (%d of %d, %s elapsed, about %s '
                      'left)\n' % ( scenario, what, run, done + 1,
                                    len( units ), clock( time() - started ),
                                    left ) )
    sys.stderr.flush()


def clock( seconds ):
    "m:ss"
    return '%d:%02d' % divmod( int( seconds ), 60 )


def main( specJson ):
    """Run the measurements specJson asks for (readSpec(), Bench.plan());
       returns JSON: { scenario: [ result, ... ] }. A KVM host of each image
       is started first, unmeasured (WARMUP), so that its snapshot template
       exists before the first measurement."""
    spec = readSpec( specJson )
    setLogLevel( 'warning' )
    bench = Bench( spec, spread() )
    for image in sorted( { image for kind, image in kindsAndImages( spec )
                           if kind.kvm } ):
        stopNetwork( bench.network( WARMUP, 1, image ) )
    units, results, took, started = bench.plan(), {}, [], time()
    for done, ( scenario, what, _run, _guess, thunk ) in enumerate( units ):
        progress( done, units, took, started )
        start = time()
        results.setdefault( scenario, [] ).append( thunk() )
        took.append( ( scenario, what, time() - start ) )
    return json.dumps( results )

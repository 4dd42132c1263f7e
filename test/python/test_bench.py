"""The benchmark's readings of its probes' output, from output captured on
a real machine (test/fixtures/cyclictest): cyclictest's histogram as the
timer figures bench.py returns, and its failure as one line.

  histogram.txt: cyclictest --quiet --mlockall --threads=1 --priority=95
    --interval=200 --duration=10 --histogram=100000 --affinity=1
    --mainaffinity=0 2>&1 | grep -v " 000000$"   (as timerLatency runs it)
  overflows.txt: cyclictest -m -q -t1 -a 1 -p95 -i200 -D 2 -h 50
    (every bin, empty ones too; 248 wake-ups past the last)
  refused.txt: the first command, as a user without SCHED_FIFO

And the timer probe's own command line, run for a second on this machine
(as in a namespace host), pinned as in a tuned host, and without
cyclictest."""

import os
import shutil
import subprocess
import tempfile

import pytest

from mnkvm.bench import ( cyclictestHistogram, onProbeCpu, probeCpu,
                          timerLatency )

FIXTURES = os.path.join( os.path.dirname( __file__ ), '..', 'fixtures',
                         'cyclictest' )


def fixture( name ):
    "A captured output."
    with open( os.path.join( FIXTURES, name ) ) as f:
        return f.read()


def testHistogram():
    "The bins with wake-ups, ascending, and cyclictest's exact summary."
    t = cyclictestHistogram( fixture( 'histogram.txt' ) )
    assert t[ 'histogramUs' ][ :3 ] == [ [ 6, 9 ], [ 7, 14 ], [ 8, 28 ] ]
    assert all( count > 0 for _, count in t[ 'histogramUs' ] )
    assert sum( count for _, count in t[ 'histogramUs' ] ) == 49948
    assert ( t[ 'overflows' ], t[ 'minUs' ], t[ 'avgUs' ], t[ 'maxUs' ] ) == (
        0, 6, 19, 903 )
    assert t[ 'histogramUs' ][ -1 ] == [ 903, 1 ]


def testOverflowsAndEmptyBins():
    """Empty bins are left out, and wake-ups past the histogram are
       counted apart (the maximum is still exact)."""
    t = cyclictestHistogram( fixture( 'overflows.txt' ) )
    assert t[ 'histogramUs' ][ 0 ] == [ 9, 1 ]
    assert t[ 'histogramUs' ][ -1 ][ 0 ] <= 49
    assert sum( count for _, count in t[ 'histogramUs' ] ) == 9744
    assert ( t[ 'overflows' ], t[ 'maxUs' ] ) == ( 248, 445 )


def testConsoleLineEnds():
    "Through a KVM host's console, lines end in \\r\\n."
    text = fixture( 'histogram.txt' ).replace( '\n', '\r\n' )
    assert cyclictestHistogram( text ) == cyclictestHistogram(
        fixture( 'histogram.txt' ) )


def testFailures():
    """cyclictest's own words where it ran no histogram; output lost on the
       way, where the bins do not add up to its total."""
    with pytest.raises( ValueError, match=r'^cyclictest gave no histogram: '
                        r'Unable to change scheduling policy! Probably' ):
        cyclictestHistogram( fixture( 'refused.txt' ) )
    lost = fixture( 'histogram.txt' ).replace( '000020 002648\n', '' )
    with pytest.raises( ValueError, match=r"^cyclictest's histogram holds "
                        r'47300 wake-ups, its total says 49948$' ):
        cyclictestHistogram( lost )


class Untuned( object ):
    "A host whose guest isolates no vCPU (KVMHost.isolatedCpus: [])."
    isolatedCpus = []


class Tuned( object ):
    "A tuned KVM host with cpus=3 (KVMHost.isolatedCpus: [ 1, 2 ])."
    isolatedCpus = [ 1, 2 ]


def testProbeCpu():
    """Probes run on a tuned host's first isolated vCPU; elsewhere where
       the scheduler puts them (a namespace host has no isolatedCpus)."""
    assert [ probeCpu( h ) for h in ( object(), Untuned(), Tuned() ) ] == [
        None, None, 1 ]
    assert onProbeCpu( Untuned(), 'sockperf server' ) == 'sockperf server'
    assert onProbeCpu( Tuned(), 'sockperf server' ) == (
        'taskset -c 1 sockperf server' )


class LocalHost( object ):
    """A host whose cmd() runs in bash on this machine, as a namespace
       host's does in its namespace; isolatedCpus as a KVMHost has them;
       path: the PATH its commands see (None: this one's)."""
    name = 'h1'

    def __init__( self, isolatedCpus=(), path=None ):
        self.isolatedCpus = list( isolatedCpus )
        self.path = path

    def cmd( self, command ):
        "command's output, as Host.cmd() returns it."
        env = dict( os.environ, **( { 'PATH': self.path } if self.path
                                    else {} ) )
        return subprocess.run( [ '/bin/bash', '-c', command ], env=env,
                               capture_output=True, text=True,
                               check=False ).stdout


@pytest.mark.skipif( os.geteuid() != 0 or not shutil.which( 'cyclictest' ),
                     reason="SCHED_FIFO needs root, and Debian's rt-tests" )
def testTimerProbe():
    """The timer probe's command line runs: a second of wake-ups every
       200 µs, each counted; on a tuned host's probe CPU where it has one
       (this machine's cores stand in for a guest's vCPUs)."""
    cpus = os.sched_getaffinity( 0 )
    for host in ( LocalHost(), LocalHost( [ max( cpus ) ] ) ):
        t = timerLatency( host, 1 )
        samples = sum( c for _, c in t[ 'histogramUs' ] ) + t[ 'overflows' ]
        assert 1000 < samples <= 5000, t
        assert t[ 'minUs' ] <= t[ 'avgUs' ] <= t[ 'maxUs' ]
        assert ( t[ 'intervalUs' ], t[ 'priority' ], t[ 'seconds' ],
                 t[ 'boundUs' ] ) == ( 200, 95, 1, 100000 )
        assert t[ 'cpu' ] == ( host.isolatedCpus or [ None ] )[ 0 ]


def testTimerProbeWithoutCyclictest():
    "Without cyclictest, one line says where it comes from."
    with tempfile.TemporaryDirectory() as tools:
        for tool in ( 'timeout', 'grep' ):
            os.symlink( shutil.which( tool ), os.path.join( tools, tool ) )
        with pytest.raises( RuntimeError, match=r'^cyclictest in h1: not '
                            r'found: a KVM host needs a default guest image '
                            r'built with it \(mnkvm image build\), a '
                            r"namespace host Debian's rt-tests" ):
            timerLatency( LocalHost( path=tools ), 1 )

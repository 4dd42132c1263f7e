"""`mnkvm [mn options]`: Debian's unmodified /usr/bin/mn, with mnkvm's classes.

mn is loaded as a module (it guards its main code with __name__), and its
registries are extended here, in one place:
- HOSTS['kvm'] = KVMHost, so `--host kvm,mem=256,cpus=2` works, and
  HOSTS['namespace'] = Mininet's Host (mn's `proc`): the two kinds mnkvm's
  API and benchmarks name;
- CONTROLLERS['none'] = NoController (a script's own addController works);
- LINKS['sriov'] = SRIOVLink, so `--link sriov,pf=enp1s0` works;
- CLI -> MnkvmCLI (Ctrl-C); every network is an MnkvmNet (net.install);
- a bad --topo parameter is one line (mn would raise from inside the topo);
- the default switch is the Linux bridge where Open vSwitch's kernel
  datapath is missing (it needs no controller and works on every kernel);
- a --custom file's `links` dict, which mn drops (a missing comma in
  MininetRunner.setCustom), is honoured;
- `--test iperfudp` runs a UDP iperf (mn maps it to a missing method);
- Mininet's cleanup() (kills by name) does nothing: mnkvm cleans up by record;
- with --servers, every network spreads over them (cluster.py), its
  switches Linux bridges unless --switch says otherwise.
"""

import functools
import importlib.machinery
import importlib.util
import os
import sys

from mininet.util import buildTopo

from mnkvm.cluster import spread
from mnkvm.engine import MnkvmError
from mnkvm.entry import exitCode
from mnkvm.kvmhost import KVMHost
from mnkvm.net import MnkvmCLI, NoController, install
from mnkvm.sriovlink import SRIOVLink

MN = '/usr/bin/mn'


def ovsKernelDatapath():
    "Is Open vSwitch's kernel datapath usable here?"
    return os.path.isdir( '/sys/module/openvswitch' )


@functools.lru_cache( maxsize=None )
def mnModule():
    "Load /usr/bin/mn (once) as a module with mnkvm's registrations."
    loader = importlib.machinery.SourceFileLoader( 'mnkvm_mn', MN )
    spec = importlib.util.spec_from_loader( 'mnkvm_mn', loader )
    mn = importlib.util.module_from_spec( spec )
    loader.exec_module( mn )
    mn.HOSTS[ 'kvm' ] = KVMHost
    mn.HOSTS[ 'namespace' ] = mn.HOSTS[ 'proc' ]
    mn.CONTROLLERS[ 'none' ] = NoController
    mn.LINKS[ 'sriov' ] = SRIOVLink
    mn.CLI = MnkvmCLI
    mn.buildTopo = checkedBuildTopo
    if not ovsKernelDatapath():
        mn.SWITCHDEF = 'lxbr'
    # mn maps --test iperfudp to Mininet.iperfUdp, which Mininet 2.3 lacks
    mn.TESTS[ 'iperfUdp' ] = lambda net: net.iperf( l4Type='UDP' )
    return mn


def customClasses( specs ):
    """mn-style class specs { 'host': 'kvm,mem=256', 'switch': 'lxbr', ... }
       -> { 'host': class, ... }, parsed as mn parses its options."""
    mn = mnModule()
    registry = dict( host=mn.HOSTS, switch=mn.SWITCHES,
                     controller=mn.CONTROLLERS, link=mn.LINKS )
    return { key: mn.customClass( registry[ key ], spec )
             for key, spec in specs.items() if spec }


def loadMn():
    "mn's MininetRunner, with mnkvm's registrations."
    mn = mnModule()

    class Runner( mn.MininetRunner ):
        "mn's runner, honouring a --custom file's links."
        def setCustom( self, name, value ):
            if name == 'links':
                mn.LINKS.update( value )
            else:
                mn.MininetRunner.setCustom( self, name, value )

    return Runner


def checkedBuildTopo( topos, spec ):
    "mn's buildTopo; a parameter the topology cannot take is one line."
    try:
        return buildTopo( topos, spec )
    except ( TypeError, ValueError ) as e:
        raise MnkvmError( '--topo %s: a bad topology parameter (%s): give '
                          'numbers, e.g. --topo linear,3 or --topo tree,'
                          'depth=2,fanout=3' % ( spec, e ) ) from None


def main( argv ):
    "Run mn with argv; returns the exit code. The caller removes leftovers."
    sys.argv = [ 'mnkvm' ] + list( argv )
    over = spread()
    if over:
        # switches on servers need no controller there (an OpenFlow one
        # would need a route back to this machine's)
        mnModule().SWITCHDEF = 'lxbr'
    install( spread=over )
    return exitCode( lambda: loadMn()(), mininetLog=True )

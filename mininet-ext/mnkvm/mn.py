"""`mnkvm [mn options]`: Debian's unmodified /usr/bin/mn, with mnkvm's classes.

mn is loaded as a module (it guards its main code with __name__), and its
registries are extended here, in one place:
- HOSTS['kvm'] = KVMHost, so `--host kvm,mem=256,cpus=2` works;
- Mininet -> MnkvmNet, MininetWithControlNet (--innamespace) ->
  MnkvmControlNet and CLI -> MnkvmCLI (resource records, Ctrl-C);
- the default switch is the Linux bridge where Open vSwitch's kernel
  datapath is missing (it needs no controller and works on every kernel);
- a --custom file's `links` dict, which mn drops (a missing comma in
  MininetRunner.setCustom), is honoured;
- `--test iperfudp` runs a UDP iperf (mn maps it to a missing method);
- mn's cleanup() (kills by name) is never called: mnkvm cleans up by record.
"""

import functools
import importlib.machinery
import importlib.util
import os
import sys

from mininet.log import error

from mnkvm.entry import exitCode
from mnkvm.kvmhost import KVMHost
from mnkvm.net import MnkvmCLI, MnkvmControlNet, MnkvmNet

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
    mn.Mininet = MnkvmNet
    mn.MininetWithControlNet = MnkvmControlNet
    mn.CLI = MnkvmCLI
    mn.cleanup = _noCleanup
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


def _noCleanup():
    error( '*** mnkvm never runs mn -c: use `mnkvm -c`\n' )


def main( argv ):
    "Run mn with argv; returns the exit code. The caller removes leftovers."
    sys.argv = [ 'mnkvm' ] + list( argv )
    return exitCode( lambda: loadMn()(), mininetLog=True )

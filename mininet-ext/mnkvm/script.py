"""`mnkvm run SCRIPT.py [args]`: run a Mininet script in the bridged Python.

The script runs as __main__ with its own sys.argv, after mininet.net.Mininet
is replaced by MnkvmNet (same class, plus resource records), so that every
network it builds can be removed by mnkvm whatever happens. --host replaces
Mininet's Host class (useHostClass); --switch and --controller (mn's syntax,
e.g. lxbr) become MnkvmNet's defaults."""

import json
import os
import runpy
import sys

import mininet.net
from mininet.node import findController

from mnkvm.entry import exitCode
from mnkvm.mn import customClasses
from mnkvm.net import MnkvmNet, useHostClass


def main( path, argv, classesJson='{}' ):
    """Run the script at path with argv; returns its exit code.
       classesJson: mn-style specs of the default host, switch, controller"""
    specs = json.loads( classesJson )
    if not specs.get( 'controller' ) and not findController():
        # As mn does: no OpenFlow controller here, so scripts get none
        specs[ 'controller' ] = 'none'
    MnkvmNet.defaults = customClasses( specs )
    if 'host' in MnkvmNet.defaults:
        useHostClass( MnkvmNet.defaults.pop( 'host' ) )
    sys.argv = [ path ] + list( argv )
    sys.path.insert( 0, os.path.dirname( os.path.abspath( path ) ) )
    mininet.net.Mininet = MnkvmNet
    return exitCode( lambda: runpy.run_path( path, run_name='__main__' ) )

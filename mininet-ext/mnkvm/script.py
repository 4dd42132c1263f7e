"""`mnkvm run SCRIPT.py [args]`: run a Mininet script in the bridged Python.

The script runs as __main__ with its own sys.argv, after net.install():
every network it builds is an MnkvmNet (Mininet, plus resource records), so
that mnkvm can remove it whatever happens. --host replaces Mininet's Host
class; --switch and --controller (mn's syntax, e.g. lxbr) replace Mininet's
default and stock ones. Containernet's scripts find its names (Containernet,
Docker: mnkvm/containernet/)."""

import json
import os
import runpy
import sys

from mininet.node import findController

from mnkvm import containernet
from mnkvm.cluster import spread
from mnkvm.entry import exitCode
from mnkvm.mn import customClasses
from mnkvm.net import install


def main( path, argv, classesJson='{}', imagesJson='{}' ):
    """Run the script at path with argv; returns its exit code.
       classesJson: mn-style specs of the default host, switch, controller;
       imagesJson: Docker image names -> their images (--image), for
       Containernet's scripts"""
    specs = json.loads( classesJson )
    containernet.install( json.loads( imagesJson ) )
    if not specs.get( 'controller' ) and not findController():
        # As mn does: no OpenFlow controller here, so scripts get none
        specs[ 'controller' ] = 'none'
    install( spread=spread(), **customClasses( specs ) )
    sys.argv = [ path ] + list( argv )
    sys.path.insert( 0, os.path.dirname( os.path.abspath( path ) ) )
    return exitCode( lambda: runpy.run_path( path, run_name='__main__' ) )

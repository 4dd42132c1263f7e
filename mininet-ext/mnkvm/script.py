"""`mnkvm run SCRIPT.py [args]`: run a Mininet script in the bridged Python.

The script runs as __main__ with its own sys.argv, after mininet.net.Mininet
is replaced by MnkvmNet (same class, plus resource records), so that every
network it builds can be removed by mnkvm whatever happens. --host, --switch
and --controller (mn's syntax, e.g. kvm,mem=256) become MnkvmNet's defaults:
they apply where the script gives Mininet no class of its own."""

import json
import os
import runpy
import signal
import sys
import traceback

import mininet.net

from mnkvm.engine import MnkvmError
from mnkvm.mn import Terminated, _terminated, customClasses
from mnkvm.net import MnkvmNet


def main( path, argv, classesJson='{}' ):
    """Run the script at path with argv; returns its exit code.
       classesJson: mn-style specs of the default host, switch, controller"""
    MnkvmNet.defaults = customClasses( json.loads( classesJson ) )
    sys.argv = [ path ] + list( argv )
    sys.path.insert( 0, os.path.dirname( os.path.abspath( path ) ) )
    signal.signal( signal.SIGTERM, _terminated )
    mininet.net.Mininet = MnkvmNet
    try:
        runpy.run_path( path, run_name='__main__' )
        return 0
    except SystemExit as e:
        if e.code is None or isinstance( e.code, int ):
            return e.code or 0
        sys.stderr.write( '%s\n' % e.code )
        return 1
    except KeyboardInterrupt:
        sys.stderr.write( '\n*** Interrupted\n' )
        return 130
    except Terminated:
        sys.stderr.write( '\n*** Terminated\n' )
        return 143
    except MnkvmError as e:
        sys.stderr.write( 'mnkvm: %s\n' % e )
        return 1
    except Exception:  # pylint: disable=broad-except
        traceback.print_exc()
        return 1
    finally:
        signal.signal( signal.SIGTERM, signal.SIG_DFL )
        sys.stdout.flush()

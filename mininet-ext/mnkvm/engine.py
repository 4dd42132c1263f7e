"""The TypeScript engine, as seen from Python.

mnkvm's TypeScript side attaches its Engine here through the pythonia
bridge; KVMHost and MnkvmNet call it for VM lifecycle and for the run's
resource record. Calls block until the engine's promise settles."""

import re
import signal

_engine = None

# SIGINT sent to mnkvm's own process (`kill -INT PID`, not a terminal's
# Ctrl-C, which reaches this process too) comes on as this signal (entry.py)
FORWARDED_SIGINT = signal.SIGUSR1


class MnkvmError( Exception ):
    "An error the user can act on; its message says what to do."


def attach( engine ):
    "Called by the TypeScript bridge at start-up."
    global _engine  # pylint: disable=global-statement
    _engine = engine
    # until an entry point takes it (entry.py), a forwarded SIGINT is nothing
    signal.signal( FORWARDED_SIGINT, signal.SIG_IGN )


def call( method, *args ):
    """Call engine.method(*args); a MnkvmError from TypeScript stays one.
       Ctrl-C and SIGTERM wait until the call returns: a call cut short
       would leave its answer in the bridge for whoever reads next."""
    if _engine is None:
        raise MnkvmError( 'mnkvm is not running: start this script with '
                          '`mnkvm run SCRIPT.py`' )
    mask = signal.pthread_sigmask( signal.SIG_BLOCK, {
        signal.SIGINT, signal.SIGTERM, FORWARDED_SIGINT } )
    try:
        return getattr( _engine, method )( *args )
    except Exception as e:  # pythonia raises its JavaScriptError
        # the message (it may have lines of its own), then the JS stack
        found = re.search( r'MnkvmError: (.*?)\n\s+at ', str( e ), re.S )
        if found:
            raise MnkvmError( found.group( 1 ) ) from None
        raise
    finally:
        signal.pthread_sigmask( signal.SIG_SETMASK, mask )

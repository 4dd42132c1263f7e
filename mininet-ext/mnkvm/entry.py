"""How mnkvm runs an entry point in Python (mn, or a user's script): with
SIGTERM as an exception that leaves the build or the CLI at once, SIGINT
sent to mnkvm's process doing what Ctrl-C does, and every ending turned
into the exit code a shell expects. mnkvm removes what is left
afterwards, from its record."""

import os
import signal
import sys
import traceback
from time import monotonic

from mininet.log import debug, error, info

from mnkvm.engine import FORWARDED_SIGINT, MnkvmError


class Terminated( BaseException ):
    "SIGTERM: leave the build or the CLI at once; mnkvm removes the network."


def _terminated( _signum, _frame ):
    # a second one (the group's, and the one mnkvm passes on) must not cut
    # the network's stop short
    signal.signal( signal.SIGTERM, signal.SIG_IGN )
    raise Terminated()


class Interrupts( object ):
    """Ctrl-C in a terminal reaches this process and mnkvm's own; SIGINT
       sent to mnkvm's process alone (kill -INT) is forwarded here as
       FORWARDED_SIGINT. Both are a KeyboardInterrupt; a forwarded one that
       follows a direct one within a moment is the same Ctrl-C."""
    last = -1.0
    SAME = .5   # seconds

    @classmethod
    def direct( cls, _signum, _frame ):
        cls.last = monotonic()
        raise KeyboardInterrupt()

    @classmethod
    def forwarded( cls, signum, frame ):
        if monotonic() - cls.last > cls.SAME:
            cls.direct( signum, frame )


def exitCode( body, mininetLog=False ):
    """Run body(); return its exit code. mininetLog: report through
       Mininet's log (mn's -v applies; an error is one line, its traceback
       at debug level), else on stderr with tracebacks as python3 prints."""
    say = info if mininetLog else sys.stderr.write
    fail = error if mininetLog else sys.stderr.write
    signal.signal( signal.SIGTERM, _terminated )
    signal.signal( signal.SIGINT, Interrupts.direct )
    signal.signal( FORWARDED_SIGINT, Interrupts.forwarded )
    try:
        body()
        return 0
    except SystemExit as e:
        if e.code is None or isinstance( e.code, int ):
            return e.code or 0
        fail( '%s\n' % e.code )
        return 1
    except KeyboardInterrupt:
        say( '\n*** Interrupted\n' )
        return 130
    except Terminated:
        say( '\n*** Terminated\n' )
        return 143
    except MnkvmError as e:
        fail( 'mnkvm: %s\n' % e )
        return 1
    except Exception as e:  # pylint: disable=broad-except
        if mininetLog:
            error( 'mnkvm: %s: %s\n' % ( type( e ).__name__, e ) )
            debug( traceback.format_exc() )
        else:
            traceback.print_exc()
        return 1
    finally:
        signal.signal( FORWARDED_SIGINT, signal.SIG_IGN )
        signal.signal( signal.SIGINT, signal.default_int_handler )
        sys.stdout.flush()
        # From here a SIGTERM (pythonia's end, or one mnkvm passes on after
        # the whole group got one) ends this process with the exit code
        # of a SIGTERM, not as a death by signal mnkvm would count as a crash
        signal.signal( signal.SIGTERM, lambda *_: os._exit( 143 ) )

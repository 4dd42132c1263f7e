"""The TypeScript engine, as seen from Python.

mnkvm's TypeScript side attaches its Engine here through the pythonia
bridge; KVMHost and MnkvmNet call it for VM lifecycle and for the run's
resource record, through the functions below: one per call, the same list
as src/engine/calls.ts, which gives their types. Arguments and answers
cross as JSON; an error comes back as a record (kind, message, details)
and is raised as a MnkvmError of that kind. Calls block until the engine's
promise settles."""

import json
import signal

_engine = None

# SIGINT sent to mnkvm's own process (`kill -INT PID`, not a terminal's
# Ctrl-C, which reaches this process too) comes on as this signal (entry.py)
FORWARDED_SIGINT = signal.SIGUSR1


class MnkvmError( Exception ):
    """An error the user can act on; its message says what to do.
       kind: usage, clash, guest or internal (src/engine/errors.ts);
       details: what the kind carries (a clash's name, a guest's console)."""

    def __init__( self, message, kind='usage', details=None ):
        Exception.__init__( self, message )
        self.kind = kind
        self.details = details or {}


class EngineError( MnkvmError ):
    "A bug in mnkvm's engine (kind internal): its stack is in details."


def attach( engine ):
    "Called by the TypeScript bridge at start-up."
    global _engine  # pylint: disable=global-statement
    _engine = engine
    # until an entry point takes it (entry.py), a forwarded SIGINT is nothing
    signal.signal( FORWARDED_SIGINT, signal.SIG_IGN )


def call( method, /, **args ):
    """Call the engine's `method` with args; return its answer or raise its
       error. Ctrl-C and SIGTERM wait until the call returns: a call cut
       short would leave its answer in the bridge for whoever reads next."""
    if _engine is None:
        raise MnkvmError( 'mnkvm is not running: start this script with '
                          '`mnkvm run SCRIPT.py`' )
    mask = signal.pthread_sigmask( signal.SIG_BLOCK, {
        signal.SIGINT, signal.SIGTERM, FORWARDED_SIGINT } )
    try:
        answer = json.loads( _engine.call( method, json.dumps( args ) ) )
    finally:
        signal.pthread_sigmask( signal.SIG_SETMASK, mask )
    if 'error' in answer:
        error = answer[ 'error' ]
        cls = EngineError if error[ 'kind' ] == 'internal' else MnkvmError
        raise cls( error[ 'message' ], error[ 'kind' ], error[ 'details' ] )
    return answer[ 'value' ]


# The engine's calls (src/engine/calls.ts)

def kvmHostOptionNames():
    return call( 'kvmHostOptionNames' )


def kvmHostOptions( given ):
    return call( 'kvmHostOptions', given=given )


def kvmHostLeastMem():
    return call( 'kvmHostLeastMem' )


def sriovLinkOptionNames():
    return call( 'sriovLinkOptionNames' )


def sriovLinkOptions( given ):
    return call( 'sriovLinkOptions', given=given )


def makeSriovLink( id, ends, options ):  # pylint: disable=redefined-builtin
    return call( 'makeSriovLink', id=id, ends=ends, options=options )


def removeSriovLink( id ):  # pylint: disable=redefined-builtin
    return call( 'removeSriovLink', id=id )


def startVm( name, nsPid, options, server=None ):
    return call( 'startVm', name=name, nsPid=nsPid, options=options,
                 server=server )


def vmReady( name ):
    return call( 'vmReady', name=name )


def attachNic( name, nic ):
    return call( 'attachNic', name=name, nic=nic )


def detachNic( name, intf ):
    return call( 'detachNic', name=name, intf=intf )


def pinVm( name, cores ):
    return call( 'pinVm', name=name, cores=cores )


def stopVm( name ):
    return call( 'stopVm', name=name )


def shellFailure( name, bootTimeout ):
    return call( 'shellFailure', name=name, bootTimeout=bootTimeout )


def recordShell( name, pid ):
    return call( 'recordShell', name=name, pid=pid )


def recordHostProcess( name, pid ):
    return call( 'recordHostProcess', name=name, pid=pid )


def servers():
    return call( 'servers' )


def claimNames( kind, names, server=None ):
    return call( 'claimNames', kind=kind, names=names, server=server )


def recordIntf( name, server=None ):
    return call( 'recordIntf', name=name, server=server )


def releaseIntf( name, server=None ):
    return call( 'releaseIntf', name=name, server=server )


def recordBridge( name, server=None ):
    return call( 'recordBridge', name=name, server=server )


def recordOvsBridge( name, server=None ):
    return call( 'recordOvsBridge', name=name, server=server )


def recordCgroup( name ):
    return call( 'recordCgroup', name=name )


def recordRule( args ):
    return call( 'recordRule', args=args )


def recordSysctl( key, value ):
    return call( 'recordSysctl', key=key, value=value )


def bridgeNetfilterNotice():
    return call( 'bridgeNetfilterNotice' )


def settle():
    return call( 'settle' )


def containerImage( dimage, source=None ):
    return call( 'containerImage', dimage=dimage, source=source )

"""Nodes on servers (mnkvm --servers): Mininet's cluster edition's
RemoteMixin over the run's ssh_config, for any node class; KVMHost runs
its namespace on a server as such a node (kvmhost.py)."""

import functools

from mininet.examples.cluster import RemoteMixin


def withServer( text, server ):
    "A node's repr (Node.__repr__'s '<... pid=N> '), saying where it runs."
    return '%s server=%s> ' % ( text.rstrip()[ :-1 ], server )


class ServerNode( RemoteMixin ):
    """RemoteMixin over the run's ssh_config (sshbase, set by MnkvmCluster),
       saying in dump where it runs."""

    def __repr__( self ):
        return withServer( super().__repr__(), self.server )


@functools.lru_cache( maxsize=None )
def onServers( cls ):
    """cls, able to run on a server: a subclass of ServerNode and cls
       (the cluster edition's own RemoteHost too: it needs the run's ssh)."""
    if issubclass( cls, ServerNode ):
        return cls
    return type( cls.__name__, ( ServerNode, cls ),
                 dict( __module__=cls.__module__, __doc__=cls.__doc__ ) )


def serverOf( node ):
    "The server node runs on, or None for this machine."
    if node is None or not getattr( node, 'isRemote', False ):
        return None
    return node.server

"""SRIOVLink: a Mininet link whose ends are SR-IOV virtual functions.

A KVM host's end is a VF passed through into its guest (VFIO), named as
Mininet names it (h1-eth0); a namespace host's end is a VF's netdev in its
namespace; a switch's end is its port to the NIC's embedded switch. Which
VF, which VLAN, and the emulated stand-in where no SR-IOV NIC exists are the
engine's (src/sriov/fabric.ts says what a link means); on servers
(--servers), each server's mnkvm makes the ends there, and two hosts on two
servers get a VF each on the PFs cabled between them. `mnkvm --link
sriov,pf=enp1s0` or, in a script run by `mnkvm run`:

    from mnkvm import SRIOVLink
    net.addLink( h1, s1, cls=SRIOVLink, pf='enp1s0' )
"""

import functools

from mininet.link import Intf, Link
from mininet.log import info
from mininet.node import Switch

from mnkvm import engine
from mnkvm.engine import MnkvmError
from mnkvm.kvmhost import KVMHost, say
from mnkvm.servernode import serverOf


class VfIntf( Intf ):
    """An SR-IOV link's end: a KVM host's guest gets the NIC the engine
       made for it (nicAttachment); its MAC was set through the PF."""

    def __init__( self, name, node=None, link=None, mac=None, **params ):
        Intf.__init__( self, name, node=node, link=link,
                       mac=mac or link.macs[ name ], **params )

    def nicAttachment( self ):
        "What KVMHost.addIntf gives the guest (src/engine/backend.ts)."
        return self.link.nics.get( self.name )

    def config( self, **params ):
        """Intf.config; then, at a host's end, wait (at most 10 s) for the
           link's carrier: a VF's link comes up a moment after it is set up
           (its driver asks the PF over their mailbox), where a veth's is
           up at once, and a ping sent before then is lost."""
        result = Intf.config( self, **params )
        if self.node is not None and not isinstance( self.node, Switch ):
            self.node.cmd( 'i=0; while [ $i -lt 100 ] && ! grep -qx 1 '
                           '/sys/class/net/%s/carrier 2>/dev/null; do '
                           'sleep 0.1; i=$((i+1)); done' % self.name )
        return result

    def setMAC( self, macstr ):
        """The MAC is the one the PF gave the VF (a VF that is not trusted
           cannot change it): nothing to do where it is that one."""
        if self.mac and macstr.lower() == self.mac.lower():  # (a VF's own)
            return ''
        return Intf.setMAC( self, macstr )


class SRIOVLink( Link ):
    """A link of SR-IOV VFs (see module docstring). Options (pf, vlan,
       rate, spoofchk, trust, mode) are checked by their one definition in
       the engine (options.ts); the other parameters are Link's."""

    def __init__( self, node1, node2, **params ):
        names = optionNames()
        given = { key: params.pop( key ) for key in list( params )
                  if key in names }
        self.options = engine.sriovLinkOptions( given )
        self.id, self.nics, self.macs = None, {}, {}
        self.made = None
        params.update( fast=True, cls1=VfIntf, cls2=VfIntf )
        Link.__init__( self, node1, node2, **params )

    def makeIntfPair( self, intfname1, intfname2, addr1=None, addr2=None,
                      node1=None, node2=None, deleteIntfs=True ):
        """Have the engine make the two ends (VFs, or emulated ports);
           between two switches, a veth pair (switches are software: their
           hosts' VFs meet them on their VLANs)."""
        if isinstance( node1, Switch ) and isinstance( node2, Switch ):
            sayOnce( 'SR-IOV links between switches are veth links '
                     '(each switch meets its hosts\' VFs on a VLAN of its '
                     'own)' )
            self.macs.update( { intfname1: addr1, intfname2: addr2 } )
            return Link.makeIntfPair( intfname1, intfname2, addr1, addr2,
                                      node1, node2, deleteIntfs )
        ends = [ end( node, intf, addr ) for node, intf, addr in (
            ( node1, intfname1, addr1 ), ( node2, intfname2, addr2 ) ) ]
        self.id = '%s:%s' % ( intfname1, intfname2 )
        self.made = engine.makeSriovLink( self.id, ends, self.options )
        say( self.made[ 'notices' ] )
        for spec, made in zip( ends, self.made[ 'ends' ] ):
            self.nics[ spec[ 'intf' ] ] = made[ 'nic' ]
            self.macs[ spec[ 'intf' ] ] = made[ 'mac' ]

    def delete( self ):
        "Delete the ends, then give the VFs back (once the guests let go)."
        try:
            Link.delete( self )
        finally:
            if self.id:
                engine.removeSriovLink( self.id )
                self.id = None

    def status( self ):
        "Link's status, with where the link runs."
        return '%s %s' % ( Link.status( self ), self.where() )

    def where( self ):
        "(hardware: PF enp1s0, VLAN 100) or (emulated, VLAN 100)."
        made = self.made or {}
        if made.get( 'mode' ) == 'hardware':
            return '(SR-IOV: PF %s, VLAN %s)' % ( made[ 'pf' ],
                                                  made[ 'vlan' ] )
        return '(SR-IOV emulated, VLAN %s)' % made.get( 'vlan' )


def end( node, intf, mac ):
    "An end as the engine takes it (src/engine/links.ts: SriovEnd)."
    if isinstance( node, KVMHost ):
        role = 'kvm'
    elif isinstance( node, Switch ):
        role = 'switch'
    elif node.inNamespace:
        role = 'host'
    else:
        raise MnkvmError( 'SR-IOV link end %s: %s runs in the root namespace '
                          'and is not a switch: give it a namespace of its '
                          'own, or use a veth link' % ( intf, node.name ) )
    if mac is None and role != 'switch' and not node.intfs:
        mac = node.params.get( 'mac' )   # Mininet's --mac for its first link
    return dict( node=node.name, role=role, intf=intf, mac=mac,
                 nsPid=None if role == 'switch' else node.pid,
                 server=serverOf( node ) )


@functools.lru_cache( maxsize=None )
def sayOnce( line ):
    "Say line once a run."
    info( line + '\n' )


@functools.lru_cache( maxsize=None )
def optionNames():
    "The SR-IOV link options' names, from their definition in the engine."
    return frozenset( engine.sriovLinkOptionNames() )

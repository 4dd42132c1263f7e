#!/usr/bin/python3
"""A testbed server's facts as JSON, for the verify role and mnkvm's VF
pool: kernel command line and mnkvm's parameters, IOMMU groups, and per
PF (from /etc/mnkvm/sriov.conf) its VFs, their drivers, their IOMMU groups
and hardware timestamping (ethtool -T)."""

import json
import os
import re
import subprocess

SYS = '/sys/bus/pci/devices'


def read( path, default='' ):
    try:
        with open( path ) as f:
            return f.read().strip()
    except OSError:
        return default


def link( path ):
    return ( os.path.basename( os.readlink( path ) )
             if os.path.islink( path ) else None )


def timestamping( netdev ):
    "ethtool -T's capabilities and PTP clock, or None without a netdev."
    if not netdev:
        return None
    out = subprocess.run( [ 'ethtool', '-T', netdev ], capture_output=True,
                          text=True ).stdout
    caps = re.findall( r'^\s+(hardware-\S+|software-\S+)', out, re.M )
    clock = re.search( r'PTP Hardware Clock: (\S+)', out )
    return { 'capabilities': caps,
             'hardware': any( c.startswith( 'hardware-' ) for c in caps ),
             'ptpClock': None if not clock or clock.group( 1 ) == 'none'
             else clock.group( 1 ) }


def device( pci ):
    path = os.path.join( SYS, pci )
    nets = os.listdir( os.path.join( path, 'net' ) ) if os.path.isdir(
        os.path.join( path, 'net' ) ) else []
    group = link( os.path.join( path, 'iommu_group' ) )
    members = sorted( os.listdir( os.path.join(
        path, 'iommu_group', 'devices' ) ) ) if group else []
    return { 'pci': pci, 'driver': link( os.path.join( path, 'driver' ) ),
             'netdev': nets[ 0 ] if nets else None, 'iommuGroup': group,
             'aloneInIommuGroup': members == [ pci ],
             'timestamping': timestamping( nets[ 0 ] if nets else None ) }


def main():
    wanted = read( '/etc/default/grub.d/mnkvm.cfg' )
    params = re.search( r'^MNKVM_KERNEL_PARAMS="(.*)"', wanted, re.M )
    pfs = []
    for line in read( '/etc/mnkvm/sriov.conf' ).splitlines():
        if not line.strip() or line.startswith( '#' ):
            continue
        pci, vfs, driver, trust, spoofchk = line.split()
        path = os.path.join( SYS, pci )
        pf = device( pci )
        pf.update( totalVfs=int( read( path + '/sriov_totalvfs', '0' ) ),
                   numVfs=int( read( path + '/sriov_numvfs', '0' ) ),
                   wanted={ 'vfs': int( vfs ), 'driver': driver,
                            'trust': trust, 'spoofchk': spoofchk },
                   vfs=[ device( link( os.path.join( path, v ) ) )
                         for v in sorted( os.listdir( path ),
                                          key=lambda v: int( v[ 6: ] )
                                          if v[ 6: ].isdigit() else -1 )
                         if re.match( r'virtfn\d+$', v ) ] )
        pfs.append( pf )
    cmdline = read( '/proc/cmdline' ).split()
    facts = {
        'hostname': os.uname().nodename,
        'kernel': os.uname().release,
        'cmdline': cmdline,
        'mnkvmParams': params.group( 1 ).split() if params else [],
        'missingParams': [ p for p in ( params.group( 1 ).split()
                                         if params else [] )
                           if p not in cmdline ],
        'iommuGroups': len( os.listdir( '/sys/kernel/iommu_groups' ) ),
        'isolatedCores': read( '/sys/devices/system/cpu/isolated' ),
        'hugepages': int( read( '/proc/sys/vm/nr_hugepages', '0' ) ),
        'pfs': pfs,
    }
    print( json.dumps( facts, indent=2 ) )


if __name__ == '__main__':
    main()

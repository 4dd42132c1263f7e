#!/usr/bin/python3
"""Container image archives for the tests, made here with tarfile (no
registry, no container tool): what `docker save` writes (docker-archive)
and an OCI image layout.

  make-image.py KIND OUT [FILE=PATH ...]

KIND: layers (two layers with whiteouts, a hard link, symlinks that point
out of the image), bootable (the same, with this machine's bash and its
libraries under them), busybox (as Docker's busybox image: this machine's
static busybox and a link per applet, no bash), escape (a layer with a ../
path), corrupt (a layer cut short), oci (layers as an OCI layout, OUT a
folder). FILE=PATH adds PATH of this machine at FILE in a first layer of its
own (a bootable image's bash, its libraries)."""

import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile

CONFIG = { 'Env': [ 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello' ],
           # (Cmd: a web server, as in Containernet's CMD example; httpd: the
           # guest's busybox, for tools the image lacks)
           'Entrypoint': [ '/bin/sh', '-c' ],
           'Cmd': [ 'echo started > /app/started; '
                    'exec httpd -f -p 80 -h /app' ],
           'WorkingDir': '/app', 'ExposedPorts': { '80/tcp': {} } }


def entry( name, data=None, mode=0o644, kind=tarfile.REGTYPE, link='' ):
    return dict( name=name, data=data, mode=mode, kind=kind, link=link )


def tarBytes( entries ):
    out = io.BytesIO()
    with tarfile.open( fileobj=out, mode='w', format=tarfile.PAX_FORMAT ) as t:
        for e in entries:
            info = tarfile.TarInfo( e[ 'name' ] )
            info.mode, info.type, info.linkname, info.mtime = (
                e[ 'mode' ], e[ 'kind' ], e[ 'link' ], 1700000000 )
            data = e[ 'data' ] or b''
            info.size = len( data ) if e[ 'kind' ] == tarfile.REGTYPE else 0
            t.addfile( info, io.BytesIO( data ) )
    return out.getvalue()


def hostFiles( pairs ):
    "A layer with this machine's files (FILE=PATH), their folders first."
    entries, dirs = [], set()
    for pair in pairs:
        inside, path = pair.split( '=', 1 )
        parts = inside.strip( '/' ).split( '/' )
        for i in range( 1, len( parts ) ):
            d = '/'.join( parts[ :i ] )
            if d not in dirs:
                dirs.add( d )
                entries.append( entry( d, mode=0o755, kind=tarfile.DIRTYPE ) )
        with open( path, 'rb' ) as f:
            entries.append( entry( '/'.join( parts ), f.read(),
                                   os.stat( path ).st_mode & 0o7777 ) )
    return tarBytes( entries )


def layers( kind ):
    d = lambda n: entry( n, mode=0o755, kind=tarfile.DIRTYPE )
    first = [ d( 'etc' ), entry( 'etc/old.conf', b'old\n' ),
              entry( 'etc/kept.conf', b'kept\n' ), d( 'app' ),
              entry( 'app/lower', b'lower\n' ), d( 'usr' ), d( 'usr/bin' ),
              entry( 'usr/bin/tool', b'#!/bin/sh\necho tool\n', 0o755 ),
              entry( 'bin', kind=tarfile.SYMTYPE, link='usr/bin' ),
              entry( 'up', kind=tarfile.SYMTYPE, link='../../..' ),
              entry( 'abs', kind=tarfile.SYMTYPE, link='/etc' ) ]
    second = [ entry( 'etc/.wh.old.conf', b'' ), d( 'app' ),
               entry( 'app/.wh..wh..opq', b'' ),
               entry( 'app/upper', b'upper\n' ),
               entry( 'usr/bin/hard', kind=tarfile.LNKTYPE,
                      link='usr/bin/tool' ),
               entry( 'bin/via-link', b'through bin\n' ),
               entry( 'up/etc/escaped', b'stays inside\n' ),
               entry( 'abs/absolute', b'stays inside too\n' ),
               entry( 'dev-null', kind=tarfile.CHRTYPE ) ]
    if kind == 'escape':
        second.append( entry( 'app/../../outside', b'escaped\n' ) )
    return [ tarBytes( first ), gzip.compress( tarBytes( second ), mtime=0 ) ]


def sha( data ):
    return hashlib.sha256( data ).hexdigest()


# Docker's busybox image runs its shell
BUSYBOX_CONFIG = { 'Env': [ 'PATH=/usr/sbin:/usr/bin:/sbin:/bin' ],
                   'Cmd': [ 'sh' ] }


def busyboxLayer():
    "/bin/busybox, and /bin/APPLET for each of its applets, as links to it."
    applets = subprocess.run( [ '/bin/busybox', '--list' ],
                              capture_output=True, text=True,
                              check=True ).stdout.split()
    with open( '/bin/busybox', 'rb' ) as f:
        busybox = f.read()
    return tarBytes( [ entry( 'bin', mode=0o755, kind=tarfile.DIRTYPE ),
                       entry( 'bin/busybox', busybox, 0o755 ) ] + [
        entry( 'bin/' + a, kind=tarfile.SYMTYPE, link='busybox' )
        for a in applets if a != 'busybox' ] + [
        entry( d, mode=0o1777 if d == 'tmp' else 0o755,
               kind=tarfile.DIRTYPE ) for d in ( 'etc', 'root', 'tmp' ) ] )


def config( blobs, container=CONFIG ):
    diffs = [ 'sha256:' + sha( gzip.decompress( b ) if b[ :2 ] == b'\x1f\x8b'
                               else b ) for b in blobs ]
    return json.dumps( { 'architecture': 'amd64', 'os': 'linux',
                         'config': container,
                         'rootfs': { 'type': 'layers', 'diff_ids': diffs } }
                       ).encode()


def dockerArchive( out, blobs, cfg ):
    names = [ '%s/layer.tar' % sha( b ) for b in blobs ]
    manifest = [ { 'Config': sha( cfg ) + '.json',
                   'RepoTags': [ 'test/web:1' ], 'Layers': names } ]
    files = [ entry( sha( cfg ) + '.json', cfg ) ] + [
        entry( n, b ) for n, b in zip( names, blobs ) ] + [
        entry( 'manifest.json', json.dumps( manifest ).encode() ) ]
    with open( out, 'wb' ) as f:
        f.write( tarBytes( files ) )


def ociLayout( out, blobs, cfg ):
    os.makedirs( os.path.join( out, 'blobs', 'sha256' ) )

    def put( data ):
        path = os.path.join( out, 'blobs', 'sha256', sha( data ) )
        with open( path, 'wb' ) as f:
            f.write( data )
        return { 'digest': 'sha256:' + sha( data ), 'size': len( data ) }
    manifest = json.dumps( {
        'schemaVersion': 2,
        'mediaType': 'application/vnd.oci.image.manifest.v1+json',
        'config': dict(
            put( cfg ),
            mediaType='application/vnd.oci.image.config.v1+json' ),
        'layers': [ dict(
            put( b ),
            mediaType='application/vnd.oci.image.layer.v1.tar' +
            ( '+gzip' if b[ :2 ] == b'\x1f\x8b' else '' ) )
            for b in blobs ] } ).encode()
    index = { 'schemaVersion': 2, 'manifests': [ dict(
        put( manifest ),
        mediaType='application/vnd.oci.image.manifest.v1+json',
        annotations={ 'org.opencontainers.image.ref.name': 'web' } ) ] }
    with open( os.path.join( out, 'index.json' ), 'w' ) as f:
        json.dump( index, f )
    with open( os.path.join( out, 'oci-layout' ), 'w' ) as f:
        json.dump( { 'imageLayoutVersion': '1.0.0' }, f )


def withLibraries( paths ):
    "FILE=PATH pairs for paths and the libraries ldd says they load."
    found = set( paths )
    for path in paths:
        ldd = subprocess.run( [ 'ldd', path ], capture_output=True,
                              text=True ).stdout
        found.update( re.findall( r'(/\S+) \(0x', ldd ) )
    return [ '%s=%s' % ( p, p ) for p in sorted( found ) ]


def main( kind, out, *files ):
    if kind == 'busybox':
        blobs = [ busyboxLayer() ]
        dockerArchive( out, blobs, config( blobs, BUSYBOX_CONFIG ) )
        return
    # (an image with bash: the layers' files, and the machine's bash)
    if kind == 'bootable':
        files = ( withLibraries( [ '/usr/bin/bash' ] ) +
                  [ 'usr/bin/sh=/usr/bin/bash' ] + list( files ) )
    blobs = ( [ hostFiles( files ) ] if files else [] ) + layers( kind )
    cfg = config( blobs )
    if kind == 'corrupt':   # (its config still names the whole layer)
        blobs[ -1 ] = blobs[ -1 ][ : len( blobs[ -1 ] ) // 2 ]
    ( ociLayout if kind == 'oci' else dockerArchive )( out, blobs, cfg )


if __name__ == '__main__':
    main( *sys.argv[ 1: ] )

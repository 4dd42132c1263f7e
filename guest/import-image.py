#!/usr/bin/python3
"""Unpack a container image into a root filesystem for a KVM host.

  import-image.py SOURCE ROOTFS CONFIG

SOURCE is docker-archive:FILE.tar (what `docker save` and `podman save`
write) or oci:DIR (an OCI image layout), either with :REF after it to pick
one of several images (a repository tag, or an OCI ref.name); or tar:FILE,
a root filesystem in one tar (a Debian image's, from mmdebstrap). The image's
layers are applied in order into the empty folder ROOTFS as the OCI image
spec says (layer.md): a whiteout .wh.NAME removes NAME of the layers below,
an opaque whiteout .wh..wh..opq empties its folder of them. Nothing is
written outside ROOTFS: a path with .. is refused, and a symlink in a path
is followed as inside the image (as a chroot would), never out of it.
Device nodes are left out (the guest's devtmpfs has them). CONFIG gets
what starting a host from the image needs: Entrypoint, Cmd, Env,
WorkingDir, User, ExposedPorts, and the image's tags.

A source that is not an image, a corrupt layer or a path that escapes:
one line on stderr, exit 1 (mnkvm image import removes what was made)."""

import gzip
import hashlib
import io
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tarfile
import zlib

WHITEOUT = '.wh.'
OPAQUE = '.wh..wh..opq'
MAX_LINKS = 40   # symlinks followed in one path, as Linux's MAXSYMLINKS


class ImageError( Exception ):
    "What is wrong with the image, in one line."


def parts( name, what ):
    """name's components, relative to the image's root; refused if it
       could leave it."""
    if '\0' in name:
        raise ImageError( '%s: a path with a NUL byte' % what )
    comps = [ c for c in name.split( '/' ) if c not in ( '', '.' ) ]
    if '..' in comps:
        raise ImageError( '%s: path %s leaves the image\'s root (..): '
                          'the archive is not a safe image' % ( what, name ) )
    return comps


def resolve( root, comps, create=False, hops=0 ):
    """The path under root that comps name, following symlinks as inside
       the image (an absolute target starts at root again, .. stops at
       root); missing folders are made where create."""
    path = root
    todo = list( comps )
    while todo:
        comp = todo.pop( 0 )
        if comp == '..':
            path = os.path.dirname( path ) if path != root else root
            continue
        nxt = os.path.join( path, comp )
        try:
            st = os.lstat( nxt )
        except FileNotFoundError:
            if not create:
                return os.path.join( nxt, *todo )
            os.mkdir( nxt, 0o755 )
            path = nxt
            continue
        if stat.S_ISLNK( st.st_mode ):
            hops += 1
            if hops > MAX_LINKS:
                raise ImageError( 'too many symlinks in %s' %
                                  '/'.join( comps ) )
            target = os.readlink( nxt )
            if target.startswith( '/' ):
                path = root
            todo = [ c for c in target.split( '/' )
                     if c not in ( '', '.' ) ] + todo
            continue
        path = nxt
    return path


def remove( path ):
    "Remove path, a folder with what is in it (no symlink is followed)."
    try:
        st = os.lstat( path )
    except FileNotFoundError:
        return
    if stat.S_ISDIR( st.st_mode ):
        shutil.rmtree( path )
    else:
        os.unlink( path )


def whiteout( root, comps, written, name, what ):
    """Apply whiteout comps (.wh.NAME, or .wh..wh..opq for its whole
       folder) to the layers below: what this layer wrote stays."""
    parent, base = resolve( root, comps[ :-1 ] ), comps[ -1 ]
    if not os.path.isdir( parent ) or os.path.islink( parent ):
        return   # nothing below to hide
    if base == OPAQUE:
        for child in os.listdir( parent ):
            if os.path.join( parent, child ) not in written:
                remove( os.path.join( parent, child ) )
    elif base == WHITEOUT:
        raise ImageError( '%s: whiteout %s names nothing' % ( what, name ) )
    elif not base.startswith( WHITEOUT + WHITEOUT ):   # (AUFS's .wh..wh.plnk)
        remove( os.path.join( parent, base[ len( WHITEOUT ): ] ) )


def applyLayer( root, layer, what ):
    """Apply one layer (an open tarfile, read in order) to root."""
    written = set()   # this layer's own paths: its whiteouts spare them
    for m in layer:
        comps = parts( m.name, what )
        if not comps:
            continue
        base = comps[ -1 ]
        if base.startswith( WHITEOUT ):
            whiteout( root, comps, written, m.name, what )
            continue
        path = os.path.join( resolve( root, comps[ :-1 ], create=True ),
                             base )
        written.add( path )
        if m.isdir():
            if not ( os.path.isdir( path ) and not os.path.islink( path ) ):
                remove( path )
                os.mkdir( path, 0o700 )
        elif m.isreg():
            remove( path )
            src = layer.extractfile( m )
            fd = os.open( path, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                          os.O_NOFOLLOW, 0o600 )
            with os.fdopen( fd, 'wb' ) as out:
                shutil.copyfileobj( src, out, 1 << 20 )
        elif m.issym():
            remove( path )
            os.symlink( m.linkname, path )
        elif m.islnk():
            target = resolve( root, parts( m.linkname, what ) )
            if not os.path.isfile( target ) or os.path.islink( target ):
                raise ImageError( '%s: hard link %s to %s, which is not a '
                                  'file of the image' %
                                  ( what, m.name, m.linkname ) )
            remove( path )
            os.link( target, path )
            continue   # (the file's owner and mode are the target's)
        elif m.isfifo():
            remove( path )
            os.mkfifo( path, 0o600 )
        else:
            continue   # device nodes: the guest's devtmpfs has them
        os.lchown( path, m.uid, m.gid )
        if not m.issym():
            os.chmod( path, stat.S_IMODE( m.mode ) )
        for key, value in m.pax_headers.items():
            if key.startswith( 'SCHILY.xattr.' ):
                try:   # (security.capability: ping's cap_net_raw)
                    os.setxattr( path, key[ len( 'SCHILY.xattr.' ): ],
                                 value.encode( 'utf-8', 'surrogateescape' ),
                                 follow_symlinks=False )
                except OSError:
                    pass
        os.utime( path, ( m.mtime, m.mtime ), follow_symlinks=False )


def openLayer( stream, what ):
    """The layer in stream as a tarfile read in order: plain, gzip (tar's
       own), or zstd (through the zstd program)."""
    head = stream.read( 4 )
    stream.seek( 0 )
    if head == b'\x28\xb5\x2f\xfd':
        data = subprocess.run( [ 'zstd', '-dc' ], input=stream.read(),
                               stdout=subprocess.PIPE, check=False )
        if data.returncode != 0:
            raise ImageError( '%s: not a zstd stream' % what )
        stream = io.BytesIO( data.stdout )
    return tarfile.open( fileobj=stream, mode='r|*' )


def pick( images, ref, source ):
    "The one image of images (ref, value) that ref names."
    if ref:
        found = [ v for names, v in images if ref in names ]
        if not found:
            raise ImageError( '%s has no image %s (it has: %s)' % (
                source, ref, ', '.join( n for names, _ in images
                                        for n in names ) or 'no names' ) )
        return found[ 0 ]
    if len( images ) != 1:
        raise ImageError( '%s holds %d images: name one (%s:REF)' %
                          ( source, len( images ), source ) )
    return images[ 0 ][ 1 ]


class DockerArchive( object ):
    "docker save's tar: manifest.json names the config and layer files."

    def __init__( self, path, ref ):
        self.source = 'docker-archive:' + path
        if not os.path.isfile( path ):
            raise ImageError( '%s: no such file' % self.source )
        try:
            self.tar = tarfile.open( path, 'r:' )
            manifest = self.json( 'manifest.json' )
        except ( tarfile.TarError, OSError, ValueError ) as e:
            raise ImageError( '%s is not an image archive (docker save): '
                              '%s' % ( path, e ) ) from None
        entry = pick( [ ( m.get( 'RepoTags' ) or [], m ) for m in manifest ],
                      ref, self.source )
        self.tags = entry.get( 'RepoTags' ) or []
        self.config = self.json( entry[ 'Config' ] )
        self.layers = entry[ 'Layers' ]

    def json( self, name ):
        member = self.tar.getmember( name )
        return json.load( self.tar.extractfile( member ) )

    def layer( self, name ):
        return self.tar.extractfile( self.tar.getmember( name ) )


class OciLayout( object ):
    "An OCI image layout: index.json, blobs/sha256/*, each checked by digest."

    def __init__( self, path, ref ):
        self.source, self.dir = 'oci:' + path, path
        if not os.path.isdir( path ):
            raise ImageError( '%s: no such folder' % self.source )
        if not os.path.isfile( os.path.join( path, 'oci-layout' ) ):
            raise ImageError( '%s is not an OCI image layout (no oci-layout '
                              'file)' % path )
        manifests = self.manifests( self.json( None, 'index.json' ) )
        manifest = pick( manifests, ref, self.source )
        self.tags = [ n for names, m in manifests if m is manifest
                      for n in names ]
        self.config = self.json( manifest[ 'config' ][ 'digest' ] )
        self.layers = [ l[ 'digest' ] for l in manifest[ 'layers' ] ]

    def manifests( self, index ):
        "(names, manifest) of each image of index (nested indexes too)."
        found = []
        for d in index.get( 'manifests', [] ):
            names = [ n for n in [ d.get( 'annotations', {} ).get(
                'org.opencontainers.image.ref.name' ) ] if n ]
            if d.get( 'mediaType', '' ).endswith( 'index.v1+json' ):
                found += self.manifests( self.json( d[ 'digest' ] ) )
            elif d.get( 'platform', {} ).get( 'architecture',
                                              'amd64' ) == 'amd64':
                found.append( ( names, self.json( d[ 'digest' ] ) ) )
        return found

    def blob( self, digest ):
        algorithm, _, hexpart = digest.partition( ':' )
        if algorithm != 'sha256' or not hexpart.isalnum():
            raise ImageError( '%s: blob %s is not a sha256 digest' %
                              ( self.source, digest ) )
        path = os.path.join( self.dir, 'blobs', 'sha256', hexpart )
        with open( path, 'rb' ) as f:
            data = f.read()
        if hashlib.sha256( data ).hexdigest() != hexpart:
            raise ImageError( '%s: blob %s does not match its digest: the '
                              'layout is corrupt' % ( self.source, digest ) )
        return data

    def json( self, digest, name=None ):
        try:
            if name:
                with open( os.path.join( self.dir, name ) ) as f:
                    return json.load( f )
            return json.loads( self.blob( digest ) )
        except ( OSError, ValueError ) as e:
            raise ImageError( '%s: %s' % ( self.source, e ) ) from None

    def layer( self, digest ):
        return io.BytesIO( self.blob( digest ) )


class RootfsTar( object ):
    """A root filesystem as one tar (guest/build-debian-image.sh's, from
       mmdebstrap): one layer, started with bash."""

    def __init__( self, path ):
        self.source, self.path, self.tags = 'tar:' + path, path, []
        self.config = { 'config': {
            'Env': [ 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:'
                     '/sbin:/bin' ], 'Cmd': [ '/bin/bash' ] } }
        self.layers = [ path ]

    def layer( self, path ):
        return open( path, 'rb' )


def openSource( source ):
    "The image SOURCE names (see the module's docstring)."
    kind, _, rest = source.partition( ':' )
    path, _, ref = rest.partition( ':' )
    if kind == 'docker-archive' and path:
        return DockerArchive( path, ref )
    if kind == 'oci' and path:
        return OciLayout( path, ref )
    if kind == 'tar' and path:
        return RootfsTar( path )
    raise ImageError( 'image source %s: give docker-archive:FILE.tar or '
                      'oci:DIR (each optionally :REF)' % source )


def writeProfile( rootfs, config ):
    """/.mnkvm in the image: profile, which the guest's shells source
       (the image's Env and WorkingDir, as a container starts with them),
       and bin, where the guest puts its own tools (busybox's ip, ifconfig,
       ping: last in PATH, for an image without them)."""
    ours = os.path.join( rootfs, '.mnkvm' )
    remove( ours )
    os.makedirs( os.path.join( ours, 'bin' ) )
    lines = [ 'export %s=%s' % ( k, shlex.quote( v ) ) for k, _, v in
              ( e.partition( '=' ) for e in config.get( 'Env' ) or [] )
              if k.isidentifier() ]
    lines.append( 'export PATH="${PATH:-/usr/sbin:/usr/bin:/sbin:/bin}:'
                  '/.mnkvm/bin"' )
    lines.append( 'cd %s 2>/dev/null || cd /' %
                  shlex.quote( config.get( 'WorkingDir' ) or '/' ) )
    with open( os.path.join( ours, 'profile' ), 'w' ) as f:
        f.write( '# made by mnkvm image import: the image\'s Env and '
                 'WorkingDir\n' + '\n'.join( lines ) + '\n' )


def main( source, rootfs, configPath ):
    image = openSource( source )
    for i, name in enumerate( image.layers ):
        what = '%s: layer %d of %d' % ( image.source, i + 1,
                                        len( image.layers ) )
        try:
            with openLayer( image.layer( name ), what ) as layer:
                applyLayer( rootfs, layer, what )
        except ( tarfile.TarError, EOFError, gzip.BadGzipFile, KeyError,
                 zlib.error ) as e:
            raise ImageError( '%s is corrupt: %s' % ( what, e ) ) from None
    config = image.config.get( 'config' ) or {}
    writeProfile( rootfs, config )
    with open( configPath, 'w' ) as f:
        json.dump( dict( tags=image.tags, source=image.source,
                         entrypoint=config.get( 'Entrypoint' ) or [],
                         cmd=config.get( 'Cmd' ) or [],
                         env=config.get( 'Env' ) or [],
                         workingDir=config.get( 'WorkingDir' ) or '',
                         user=config.get( 'User' ) or '',
                         exposedPorts=sorted( config.get( 'ExposedPorts' )
                                              or {} ) ), f, indent=1 )


if __name__ == '__main__':
    if len( sys.argv ) != 4:
        sys.exit( 'usage: import-image.py SOURCE ROOTFS CONFIG' )
    try:
        main( *sys.argv[ 1: ] )
    except ImageError as e:
        sys.stderr.write( '%s\n' % e )
        sys.exit( 1 )

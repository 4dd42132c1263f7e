"""`mnkvm migrate SCRIPT.py`: what a Containernet script's Docker hosts
become under `mnkvm run`, option by option, and the images it needs; the
script is read, not run (mnkvm/containernet/options.py's OPTIONS says
what each option becomes)."""

import ast

from mnkvm.containernet.options import DROPPED, OPTIONS, explain, isDefault
from mnkvm.entry import exitCode


def main( path ):
    """Print the report; returns the exit code (a script Python cannot
       parse: 1)."""
    return exitCode( lambda: print( '\n'.join( report( path ) ) ) )


def report( path ):
    """What `mnkvm migrate` says of the script at path, without running it:
       per Docker host and option, mapped, approximated or dropped; the
       images it needs. Returns the report's lines."""
    with open( path ) as f:
        tree = ast.parse( f.read(), path )
    lines, images = [], []
    for call in ast.walk( tree ):
        if not isinstance( call, ast.Call ):
            continue
        fn = call.func.attr if isinstance( call.func, ast.Attribute ) else (
            call.func.id if isinstance( call.func, ast.Name ) else '' )
        keywords = { k.arg: k.value for k in call.keywords if k.arg }
        cls = keywords.get( 'cls' )
        isDocker = fn in ( 'addDocker', 'Docker' ) or (
            fn == 'addHost' and isinstance( cls, ast.Name ) and
            cls.id == 'Docker' )
        if fn in ( 'TreeContainerNet', 'ContainerTreeTopo' ):
            dimage = keywords.get( 'dimage' ) or (
                call.args[ 2 ] if len( call.args ) > 2 else None )
            value = ( dimage.value if isinstance( dimage, ast.Constant )
                      else 'ubuntu:trusty' if dimage is None else None )
            images += [ value ] if isinstance( value, str ) else []
            lines.append( '%s (line %d): a tree of Docker hosts of dimage=%s '
                          '(no other options)' % (
                              fn, call.lineno, ast.unparse( dimage )
                              if dimage else repr( value ) ) )
            continue
        if not isDocker:
            continue
        name = ( ast.literal_eval( call.args[ 0 ] ) if call.args and
                 isinstance( call.args[ 0 ], ast.Constant ) else '?' )
        lines.append( '%s (line %d):' % ( name, call.lineno ) )
        for key, node in keywords.items():
            if key not in OPTIONS:
                continue
            try:
                value = ast.literal_eval( node )
            except ValueError:
                value = None   # (an expression: its value is seen at run time)
            kind, how = explain( key )
            if key == 'dimage' and isinstance( value, str ):
                images.append( value )
            shown = ast.unparse( node )
            if kind == DROPPED and isDefault( key, value ):
                continue
            lines.append( '  %s=%s: %s: %s' % ( key, shown, kind, how ) )
    if not lines:
        lines.append( 'no Docker hosts (addDocker, Docker) in %s' % path )
    lines.append( 'images: %s' % ( ', '.join( sorted( set( images ) ) ) or
                                   'none named literally' ) )
    for image in sorted( set( images ) ):
        lines.append( '  %s: give --image %s=docker-archive:FILE.tar (or '
                      'oci:DIR, or an mnkvm image)' % ( image, image ) )
    return lines

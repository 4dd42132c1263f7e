"""`mnkvm migrate SCRIPT.py`: what a Containernet script's Docker hosts
become under `mnkvm run`, option by option, and the images it needs; the
script is read, not run (mnkvm/containernet.py's OPTIONS says it)."""

from mnkvm.containernet import migrate
from mnkvm.entry import exitCode


def main( path ):
    "Print the report; returns the exit code (a script Python cannot parse: 1)."
    return exitCode( lambda: print( '\n'.join( migrate( path ) ) ) )

"""Calls Mininet's cleanup() (as cpu.py does when a build fails): under
mnkvm it must kill nothing by name and remove nothing it did not make."""
from mininet.clean import cleanup

cleanup()
print( 'AFTER CLEANUP' )

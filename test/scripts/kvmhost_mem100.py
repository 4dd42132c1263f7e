"""A KVMHost made by hand with a memory too small for the guest."""
from mnkvm import KVMHost

KVMHost( 'h1', mem=100 )

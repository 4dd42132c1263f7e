"""One host named by argv[1], no links (runs of it at once do not clash
over interface names); prints whether it was restored from a template."""
import sys

from mininet.net import Mininet

net = Mininet()
host = net.addHost( sys.argv[ 1 ] )
print( 'RESTORED', host.name, host.cmd( 'hostname' ).strip(), host.restored )
net.stop()

"""TreeNet (mininet.topolib bound Mininet when it was imported, before
mnkvm ran): its network must still be mnkvm's, with --switch applied."""
from mininet.cli import CLI
from mininet.topolib import TreeNet

from mnkvm import MnkvmNet

net = TreeNet( depth=1, fanout=2 )
net.start()
print( 'NET', isinstance( net, MnkvmNet ), type( net ).__name__,
       type( net.switches[ 0 ] ).__name__, len( net.controllers ) )
CLI( net )
net.stop()

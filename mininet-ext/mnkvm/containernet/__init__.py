"""Containernet's API on KVM hosts.

A script written for Containernet (Mininet with Docker containers as
hosts) runs under `mnkvm run` unchanged:

    from mininet.net import Containernet
    from mininet.node import Docker
    net = Containernet()
    d1 = net.addDocker( 'd1', ip='10.0.0.251', dimage='web:1',
                        environment={ 'MODE': 'test' }, mem_limit='256m' )

Each Docker host is a KVM host booted from the image its dimage stands for
(`mnkvm image import`; `mnkvm run --image DIMAGE=SOURCE`), its shell in the
image's root. Each of Docker's options becomes its KVM host's equivalent
where there is one (options.py's OPTIONS, the one definition, which
`mnkvm migrate` reports from too); an option without one is one warning
line, never silently dropped. As in Containernet, dcmd runs in the
background once the host is up, and d.start() runs the image's ENTRYPOINT
and CMD.

Its parts: options.py (the options, in words and as a KVM host's),
values.py (Docker's values read), node.py (Docker), net.py
(Containernet), topolib.py (trees of Docker hosts), each named as the
module of Containernet's that has it; mnkvm/migrate.py reads a script
without running it."""

import mininet.net
import mininet.node
import mininet.topolib

from mnkvm.containernet import node
from mnkvm.containernet.net import Containernet
from mnkvm.containernet.node import Docker
from mnkvm.containernet.topolib import ContainerTreeTopo, TreeContainerNet


def install( images ):
    """Containernet's names where its scripts import them from (Debian's
       Mininet has none of them); images: dimage -> SOURCE."""
    node.IMAGES.clear()
    node.IMAGES.update( images )
    mininet.net.Containernet = Containernet
    mininet.node.Docker = Docker
    mininet.topolib.ContainerTreeTopo = ContainerTreeTopo
    mininet.topolib.TreeContainerNet = TreeContainerNet

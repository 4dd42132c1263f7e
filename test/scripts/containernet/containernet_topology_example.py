#!/usr/bin/python3
"""Containernet's topology example (containernet_topology_example.py, a
tree1024.py with Docker hosts), written for this suite at a size for two
cores: TreeContainerNet, then Mininet's CLI."""
from mininet.cli import CLI
from mininet.log import setLogLevel
from mininet.node import OVSSwitch
from mininet.topolib import TreeContainerNet

if __name__ == '__main__':
    setLogLevel( 'info' )
    network = TreeContainerNet( depth=1, fanout=3, dimage='web:1',
                                switch=OVSSwitch )
    network.run( CLI, network )

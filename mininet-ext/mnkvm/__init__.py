"""mnkvm: Mininet hosts that are KVM virtual machines.

Mininet scripts run by `mnkvm run` can use the classes explicitly:

    from mnkvm import KVMHost, SRIOVLink
    net = Mininet( topo=topo, host=KVMHost, switch=LinuxBridge,
                   link=SRIOVLink )
"""

import mnkvm.compat  # noqa: F401 (a run-time fix, see its docstring)
from mnkvm.engine import MnkvmError
from mnkvm.kvmhost import KVMHost
from mnkvm.net import MnkvmNet
from mnkvm.sriovlink import SRIOVLink

__all__ = [ 'KVMHost', 'MnkvmError', 'MnkvmNet', 'SRIOVLink' ]

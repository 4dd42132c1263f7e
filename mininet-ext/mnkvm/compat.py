"""A run-time fix for Debian 12's Mininet 2.3.0 with its iperf 2.1.

Mininet.iperf() waits for two '/sec' reports from the iperf server: one
for the real test and one for waitListening()'s telnet probe. iperf 2.1
does not report a connection that sends no test header, so net.iperf(),
`mn --test iperf` and the CLI's `iperf h1 h2` hang forever, for namespace
hosts and KVM hosts alike. mininet.net's waitListening is redirected here
(net.py uses it only in iperf()) to add one tiny real transfer."""

import mininet.net
from mininet.util import waitListening


def iperfWaitListening( client=None, server='127.0.0.1', port=80,
                        timeout=None ):
    "waitListening(), then a 1 KB iperf transfer the server reports."
    if not waitListening( client, server, port, timeout ):
        return False
    client.cmd( 'iperf -p %d -n 1K -c %s' % ( port, server ) )
    return True


mininet.net.waitListening = iperfWaitListening

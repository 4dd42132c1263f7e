"""A Docker host's published port (Docker's port_bindings): each TCP
connection to a port of this machine relayed to the guest's port over its
management link, as Docker's userland proxy (docker-proxy) relays to a
container's.

    python3 portforward.py FD GUEST_ADDRESS GUEST_PORT

Docker.publish() starts it in the host's network namespace, where the
guest's management address is, and hands it the listening socket (file
descriptor FD) already bound in this machine's namespace: no address,
route or NAT rule is added to the machine for it."""

import socket
import sys
import threading

CONNECT_TIMEOUT = 10   # s: the guest's port must answer within this


def pipe( source, sink ):
    "Copy source to sink until either ends; then end sink's sending side."
    try:
        while True:
            data = source.recv( 65536 )
            if not data:
                break
            sink.sendall( data )
    except OSError:
        pass
    try:
        sink.shutdown( socket.SHUT_WR )
    except OSError:
        pass


def relay( client, address ):
    "One connection: to the guest's port and back, both ways."
    with client:
        try:
            guest = socket.create_connection( address, CONNECT_TIMEOUT )
        except OSError:
            return   # (the client sees its connection closed, as with Docker)
        with guest:
            guest.settimeout( None )
            back = threading.Thread( target=pipe, args=( guest, client ),
                                     daemon=True )
            back.start()
            pipe( client, guest )
            back.join()


def main( fd, host, port ):
    listener = socket.socket( fileno=int( fd ) )
    address = ( host, int( port ) )
    while True:
        client, _ = listener.accept()
        threading.Thread( target=relay, args=( client, address ),
                          daemon=True ).start()


if __name__ == '__main__':
    main( *sys.argv[ 1: ] )

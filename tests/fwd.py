#!/usr/bin/python3
"""fwd.py LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT - a TCP forwarder
for the partition test (tests/it/it_lease_partition.sh): PostgreSQL listens on
127.0.0.1 only, which a network namespace cannot reach; this relays from the
veth address. Standard library only; runs until killed."""
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    lh, lp, th, tp = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((lh, lp))
    srv.listen(64)
    while True:
        c, _ = srv.accept()
        try:
            t = socket.create_connection((th, tp))
        except OSError:
            c.close()
            continue
        for a, b in ((c, t), (t, c)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    main()

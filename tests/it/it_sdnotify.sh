#!/bin/bash
# systemd Type=notify: under NOTIFY_SOCKET the master sends READY=1 once Redis
# answers, WATCHDOG=1 about every half WATCHDOG_USEC while its loop turns, and
# STOPPING=1 when SIGTERM starts the drain; children send nothing (every
# datagram comes from the master's pid).
. "$(dirname "$0")/../lib.sh"

sock="$W/notify.sock"
cat > "$W/listen.py" <<'PY'
import socket, sys, time, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
out = open(sys.argv[2], "a", buffering=1)
start = time.time()
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = -1
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
    for line in msg.decode().split("\n"):
        out.write("%.3f %d %s\n" % (time.time() - start, pid, line))
PY
/usr/bin/python3 "$W/listen.py" "$sock" "$W/notices" &
LISTENER=$!
ON_EXIT="kill $LISTENER 2>/dev/null; $ON_EXIT"
wait_for 5 "the notify socket" test -S "$sock"

NOTIFY_SOCKET="$sock" WATCHDOG_USEC=1000000 start_worker -c 2 -q urgent
ready() { grep -q ' READY=1$' "$W/notices"; }
wait_for 10 "READY=1" ready
pings() { [ "$(grep -c ' WATCHDOG=1$' "$W/notices")" -ge 4 ]; }
wait_for 10 "four watchdog pings (every 0.5 s)" pings
master=$WORKER_PID
stop_worker
grep -q ' STOPPING=1$' "$W/notices" || fail "no STOPPING=1: $(cat "$W/notices")"
senders=$(awk '{print $2}' "$W/notices" | sort -u)
assert_eq "$senders" "$master" "every notice comes from the master"
# WATCHDOG_PID naming another process: the watchdog is not ours
: > "$W/notices"
NOTIFY_SOCKET="$sock" WATCHDOG_USEC=1000000 WATCHDOG_PID=1 start_worker -c 1 -q urgent
wait_for 10 "READY=1 (second master)" ready
sleep 1.5
assert_eq "$(grep -c ' WATCHDOG=1$' "$W/notices" || true)" 0 "pings when WATCHDOG_PID is another process"
stop_worker

#!/usr/bin/env python3
# A fake NOTIFY_SOCKET (reference dbus-systemd.md §4.2): binds SOCK, prints one JSON line per datagram with the sender's pid.
import json, os, socket, struct, sys

path = sys.argv[1]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
print(json.dumps({"listening": path}), flush=True)
while True:
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))
    pid = next((struct.unpack("iII", d[:12])[0] for level, kind, d in anc if kind == socket.SCM_CREDENTIALS), None)
    print(json.dumps({"pid": pid, "data": data.decode("utf-8", "replace")}), flush=True)

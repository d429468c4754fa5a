#!/bin/sh
# init of the boot probe (host-prereqs.ts, umlUnsupportedReason): can this host run a guest, and Node in it?
mount -t proc proc /proc
mount -t tmpfs tmpfs /tmp
"$E2E_NODE" -e 'console.log("UML-PROBE-NODE-OK")' 2>&1 | head -3
poweroff -f

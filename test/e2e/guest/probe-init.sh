#!/bin/sh
# init of the boot probes (UML: host-prereqs.ts umlUnsupportedReason; QEMU+KVM: qemu-probe.ts): can
# this host run a guest, and Node in it?
mount -t proc proc /proc
mount -t tmpfs tmpfs /tmp
"$E2E_NODE" -e 'console.log("E2E-PROBE-NODE-OK")' 2>&1 | head -3
poweroff -f

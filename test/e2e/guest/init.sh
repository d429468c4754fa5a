#!/bin/sh
# PID 1 of the guest (see docs/e2e.md): User-Mode Linux, or QEMU after its initramfs switched to
# the host root. The root filesystem is the host's, read-only (hostfs or virtio-9p); words
# NAME=value on the kernel command line arrive here as environment variables:
#   E2E_DIR    host run directory (read-write): modroot/, conf/, logs/, guest-status
#   E2E_RUNFS  how to mount it: hostfs (UML) or 9p:<tag>:<options> (QEMU)
#   E2E_BACKEND uml or qemu (which kernel modules exist)
#   E2E_ADDR   guest address on the host TAP, CIDR (moved into the "server" namespace)
#   E2E_PORT   port of the exec server (the host drives every scenario through it)
#   E2E_NODE   node binary       E2E_MAX    watchdog: power off after this many seconds
#   E2E_SCALE  time factor of this backend (scripts scale their waits by it)
# This script only builds the stage: mounts, modules, namespaces, one anchor process per namespace.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
HERE=$(dirname "$0")
M=/mnt/e2e                                      # guest view of E2E_DIR
up()  { cut -d' ' -f1 /proc/uptime; }
log() { echo "[guest $(up)] $*"; }
die() { log "FATAL: $*"; echo "failed: $*" > $M/guest-status 2>/dev/null; poweroff -f; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=755 tmpfs /run           # /var/run, /var/lock point here
mkdir -p /run/lock /run/netns
# Writable scratch dirs are fresh tmpfs mounts. When the checkout itself lives under one of them (a
# clone in /tmp, say), it would vanish behind the tmpfs: bind it aside first and move it back after.
REPO=$(cd "$HERE/../../.." && pwd)
KEEP=/run/e2e-repo
under() { case "$REPO/" in "$1"/*) return 0 ;; esac; return 1; }
for d in /tmp /var/tmp /var/log /mnt; do
  if under $d; then mkdir -p $KEEP && mount --bind "$REPO" $KEEP; fi
  mount -t tmpfs tmpfs $d
  if under $d; then mkdir -p "$REPO" && mount --move $KEEP "$REPO"; fi
done
mkdir -p $M
case "$E2E_RUNFS" in
  9p:*) tag=${E2E_RUNFS#9p:}; opts=${tag#*:}; tag=${tag%%:*}
        mount -t 9p -o "$opts" "$tag" $M || die "9p mount of $tag" ;;
  *)    mount -t hostfs -o "$E2E_DIR" none $M || die "hostfs mount of $E2E_DIR" ;;
esac
exec >>$M/logs/guest-init.log 2>&1              # console stays quiet; everything lands on the host
log "init: mounts done"

# One modprobe for everything: each process start costs 25-60 ms under UML. Then switch kernel
# autoloading off, or every new crypto algorithm name runs the helper (~0.17 s each).
# nf_tables/nft_compat/nft_chain_nat: QEMU's Debian kernel runs the system's `iptables` (nft back
# end); UML's kernel has no nftables NAT for IPv4, so there the agent is told to use iptables-legacy.
NFT=""; [ "$E2E_BACKEND" = qemu ] && NFT="nf_tables nft_compat nft_chain_nat"
modprobe -a -d $M/modroot veth tun bridge dummy ppp_generic ppp_async ppp_synctty pppox l2tp_core l2tp_ppp \
  xfrm_user esp4 af_key authenc authencesn echainiv seqiv hmac cbc ctr gcm ghash-generic ccm \
  des_generic sha512_generic xcbc cmac drbg \
  nf_conntrack nf_conntrack_netlink nf_nat ip_tables iptable_nat iptable_filter iptable_mangle xt_MASQUERADE xt_nat xt_conntrack \
  xt_tcpudp xt_policy xt_esp xt_mark xt_connmark $NFT || die modprobe
# iptable_mangle + xt_{tcpudp,policy,esp,mark,connmark}: the rules charon's connmark plugin installs
# for mark_in/mark_out = %unique (several clients behind one NAT; docs/ipsec.md). dummy + xt_nat:
# the agent's cloud NAT mode and the 1:1 NAT of the "igw" namespace; nf_conntrack_netlink: `conntrack -D`
# in the cloud NAT scenarios.
echo > /proc/sys/kernel/modprobe
log "init: modules loaded"

# Stage (addresses mirrored in test/e2e/lib/topology.ts):
#   root ns: bridges br-wan ("internet", 198.51.100.0/24) and br-lan (home LAN, 10.77.0.0/24)
#   server   198.51.100.1 on br-wan, E2E_ADDR on vec0 (host TAP: broker)
#   c1..c3   198.51.100.11..13 on br-wan (clients with a public address)
#   nat      198.51.100.100 on br-wan, 10.77.0.1 on br-lan, masquerades the LAN
#   n1..n3   10.77.0.11..13 on br-lan behind nat
#   igw      a cloud's internet gateway: 198.51.100.2 on br-wan, 10.99.0.1 on br-cloud (the VPC
#            subnet); 1:1 NAT 198.51.100.2 <-> 10.99.0.10 and, like a VPC, drops what the
#            instance sends from any other source address
#   cloud    the second agent's VM: only 10.99.0.10 on br-cloud, default route via igw; reaches
#            the broker through igw and the server namespace (which masquerades it onto vec0)
links() {  # NS BRIDGE IFNAME ADDRESS GATEWAY
  cat <<T
server br-wan eth0 198.51.100.1/24 -
c1 br-wan eth0 198.51.100.11/24 -
c2 br-wan eth0 198.51.100.12/24 -
c3 br-wan eth0 198.51.100.13/24 -
nat br-wan wan0 198.51.100.100/24 -
nat br-lan lan0 10.77.0.1/24 -
n1 br-lan eth0 10.77.0.11/24 10.77.0.1
n2 br-lan eth0 10.77.0.12/24 10.77.0.1
n3 br-lan eth0 10.77.0.13/24 10.77.0.1
igw br-wan wan0 198.51.100.2/24 198.51.100.1
igw br-cloud vpc0 10.99.0.1/24 -
cloud br-cloud eth0 10.99.0.10/24 10.99.0.1
T
}
# QEMU's NIC is eth0 (no udev in the guest); UML's is vec0. One name for both from here on.
ip link show vec0 >/dev/null 2>&1 || ip link set eth0 name vec0 || die "no guest NIC (vec0/eth0)"
# A few `ip -batch` processes build it all (every exec costs 25-60 ms under UML).
NSS="server c1 c2 c3 nat n1 n2 n3 igw cloud"
{
  echo "link set lo up"
  for ns in $NSS; do echo "netns add $ns"; done
  for br in br-wan br-lan br-cloud; do echo "link add $br type bridge"; echo "link set $br up"; done
  while read -r ns br ifname addr gw; do
    echo "link add $ifname netns $ns type veth peer name v-$ifname-$ns"
    echo "link set v-$ifname-$ns master $br up"
  done <<LINKS
$(links)
LINKS
} | ip -batch - || die "links"
for ns in $NSS; do
  {
    echo "link set lo up"
    links | while read -r n br ifname addr gw; do
      [ "$n" = "$ns" ] || continue
      echo "addr add $addr dev $ifname"; echo "link set $ifname up"
      [ "$gw" = "-" ] || echo "route add default via $gw"
    done
  } | ip -n $ns -batch - || die "addresses in $ns"
done
ip netns exec nat sh -c 'sysctl -qw net.ipv4.ip_forward=1 && iptables-legacy -t nat -A POSTROUTING -o wan0 -j MASQUERADE' || die "nat rule"
ip netns exec igw sh -c 'sysctl -qw net.ipv4.ip_forward=1 &&
  iptables-legacy -t nat -A PREROUTING -i wan0 -d 198.51.100.2 -j DNAT --to-destination 10.99.0.10 &&
  iptables-legacy -t nat -A POSTROUTING -o wan0 -s 10.99.0.10 -j SNAT --to-source 198.51.100.2 &&
  iptables-legacy -A FORWARD -i vpc0 ! -s 10.99.0.10 -j DROP' || die "igw rules"
ip link set vec0 netns server || die "no vec0 (TAP) in the guest"
ip -n server addr add "$E2E_ADDR" dev vec0 && ip -n server link set vec0 up
ip netns exec server sh -c 'sysctl -qw net.ipv4.ip_forward=1 &&
  iptables-legacy -t nat -A POSTROUTING -s 198.51.100.0/24 -o vec0 -j MASQUERADE' || die "server: forwarding for cloud"

log "init: namespaces up"

# One anchor per namespace: `ip netns exec` gives it a private mount namespace, where side-init.sh
# mounts its own /run and /etc/{ppp,xl2tpd,swanctl,strongswan.conf} (charon and xl2tpd use fixed paths).
ANCHORS=""
for ns in $NSS; do
  ip netns exec $ns sh "$HERE/side-init.sh" $ns $M & ANCHORS="$ANCHORS $ns:$!"
done
i=0
for a in $ANCHORS; do
  until [ -e /proc/${a#*:}/root/run/side-ready ]; do
    i=$((i+1)); [ $i -gt 200 ] && die "anchor $a not ready"; sleep 0.05
  done
done
log "init: anchors$ANCHORS"

# The exec server lives in the server namespace (it owns vec0) and enters the others by anchor pid.
( sleep "${E2E_MAX:-600}"; log "watchdog: E2E_MAX reached"; poweroff -f ) &
SERVER_PID=${ANCHORS#*server:}; SERVER_PID=${SERVER_PID%% *}
ANCHORS="$ANCHORS" nsenter -t $SERVER_PID -n -- "$E2E_NODE" "$HERE/exec-server.mjs" \
  "${E2E_ADDR%/*}" "$E2E_PORT" "$M/token" &
log "init: exec server started"
wait $!
log "init: exec server exited ($?), powering off"
sync
poweroff -f

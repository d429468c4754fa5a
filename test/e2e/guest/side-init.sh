#!/bin/sh
# Anchor of one guest namespace, started as `ip netns exec NS side-init.sh NS MNT` (ip netns exec
# already unshared a mount namespace). Gives the side a private /run and private, writable
# /etc/{ppp,xl2tpd,swanctl,strongswan.conf}: charon's VICI socket and pid file, xl2tpd's control
# pipe and pppd's files have fixed paths. The host fills these directories through the exec server.
ns=$1; M=$2
set -e
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock /run/xl2tpd /run/etc/ppp /run/etc/xl2tpd /run/etc/swanctl/conf.d /run/log
: > /run/etc/ppp/options                          # pppd reads it first; keep it empty
cp "$M/conf/strongswan.conf" /run/etc/strongswan.conf
mount --bind /run/etc/ppp             /etc/ppp
mount --bind /run/etc/xl2tpd          /etc/xl2tpd
mount --bind /run/etc/swanctl         /etc/swanctl
mount --bind /run/etc/strongswan.conf /etc/strongswan.conf
echo "$ns" > /run/side-ready
exec sleep 2147483647

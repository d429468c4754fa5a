/**
 * Drives the real client stack in one guest namespace, the way a user's machine does it:
 * charon initiates IKEv1 (Main Mode + Quick Mode), then xl2tpd dials the LNS and starts pppd,
 * which brings up ppp0 with the address the broker allocated.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENT_CONN, clientPppOptions, clientSwanctlConf, clientXl2tpdConf, type ClientProfile } from './configs';
import { E2eError } from './errors';
import type { Guest } from './guest';
import type { GuestNamespace } from './topology';

export interface PppLink {
  readonly localAddress: string;
  readonly peerAddress: string;
  readonly ikeMs?: number;
  readonly pppMs: number;
}

/** Starts charon in `ns` if it is not running and waits for its VICI socket. */
export async function ensureCharon(guest: Guest, ns: GuestNamespace): Promise<void> {
  await guest.must(
    ns,
    `[ -S /run/charon.vici ] && exit 0
     setsid -f /usr/lib/ipsec/charon >/run/log/charon.stdout 2>&1 </dev/null
     i=0; until [ -S /run/charon.vici ]; do i=$((i+1)); [ $i -gt $((150*E2E_SCALE)) ] && exit 1; sleep 0.1; done`,
    { timeoutMs: 20_000 },
  );
}

/** Stops everything a client may have left running in `ns` (pppd, xl2tpd, SAs). */
export async function resetClient(guest: Guest, ns: GuestNamespace): Promise<void> {
  await guest.sh(
    ns,
    `for f in /run/xl2tpd.pid /run/ppp*.pid; do [ -f $f ] && kill $(head -1 $f) 2>/dev/null; done
     [ -S /run/charon.vici ] && swanctl --terminate --ike ${CLIENT_CONN} --timeout 3 >/dev/null 2>&1
     i=0; while ip link show ppp0 >/dev/null 2>&1 && [ $i -lt $((30*E2E_SCALE)) ]; do i=$((i+1)); sleep 0.1; done
     rm -f /run/xl2tpd.pid /run/xl2tpd/l2tp-control; true`,
    { timeoutMs: 15_000 },
  );
}

/** Writes the three configuration files for this client profile. */
export async function configureClient(guest: Guest, ns: GuestNamespace, profile: ClientProfile): Promise<void> {
  await guest.writeFile(ns, '/etc/ppp/options.client', clientPppOptions(profile), '600');
  await guest.writeFile(ns, '/etc/xl2tpd/xl2tpd.conf', clientXl2tpdConf(profile));
  await guest.writeFile(ns, '/etc/swanctl/swanctl.conf', clientSwanctlConf(profile), '600');
}

/** IKEv1 Main Mode + Quick Mode; resolves with the time taken, rejects with charon's reason. */
export async function ipsecUp(guest: Guest, ns: GuestNamespace): Promise<number> {
  await ensureCharon(guest, ns);
  await guest.must(ns, 'swanctl --load-all --clear --noprompt', { timeoutMs: 15_000 });
  const started = Date.now();
  const result = await guest.sh(ns, `swanctl --initiate --child ${CLIENT_CONN} --timeout $((20*E2E_SCALE))`, { timeoutMs: 30_000 });
  if (result.code !== 0) {
    const log = await guest.sh(ns, "grep -E 'AUTHENTICATION_FAILED|INVALID|failed|error|NO_PROPOSAL' /run/log/charon.log | tail -5");
    throw new E2eError(`IKE failed: ${log.stdout.trim() || result.stdout.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return Date.now() - started;
}

/** Starts xl2tpd (LAC), dials, and waits for ppp0 to get an IPv4 address. */
export async function l2tpUp(guest: Guest, ns: GuestNamespace, unscaledTimeoutMs = 30_000): Promise<Omit<PppLink, 'ikeMs'>> {
  const timeoutMs = unscaledTimeoutMs * guest.scale;
  await guest.must(
    ns,
    `[ -p /run/xl2tpd/l2tp-control ] || setsid -f xl2tpd -D >/run/log/xl2tpd.log 2>&1 </dev/null
     i=0; until [ -p /run/xl2tpd/l2tp-control ]; do i=$((i+1)); [ $i -gt $((100*E2E_SCALE)) ] && exit 1; sleep 0.1; done`,
  );
  const started = Date.now();
  await guest.must(ns, `echo "c ${CLIENT_CONN}" > /run/xl2tpd/l2tp-control`);
  const waited = await guest.sh(
    ns,
    `i=0; until ip -4 -o addr show dev ppp0 2>/dev/null | grep -q ' peer '; do
       i=$((i+1)); [ $i -gt ${Math.ceil(timeoutMs / 200)} ] && exit 1; sleep 0.2; done
     ip -4 -o addr show dev ppp0`,
    { timeoutMs: unscaledTimeoutMs + 5_000 },
  );
  if (waited.code !== 0) {
    const log = await guest.sh(ns, "tail -n 8 /run/log/pppd.log 2>/dev/null; grep -iE 'error|fail|refus' /run/log/xl2tpd.log | tail -3");
    throw new E2eError(`ppp0 did not come up within ${timeoutMs} ms: ${log.stdout.trim().split('\n').join(' | ')}`);
  }
  const match = /inet (\d+\.\d+\.\d+\.\d+) peer (\d+\.\d+\.\d+\.\d+)/.exec(waited.stdout);
  if (!match) throw new E2eError(`unexpected ppp0 address line: ${waited.stdout.trim()}`);
  return { localAddress: match[1] ?? '', peerAddress: match[2] ?? '', pppMs: Date.now() - started };
}

/** Full client connect: optional IPsec, then L2TP/PPP. */
export async function connectClient(guest: Guest, ns: GuestNamespace, profile: ClientProfile): Promise<PppLink> {
  await resetClient(guest, ns);
  await configureClient(guest, ns, profile);
  const ikeMs = profile.psk === undefined ? undefined : await ipsecUp(guest, ns);
  const link = await l2tpUp(guest, ns);
  return { ...link, ...(ikeMs === undefined ? {} : { ikeMs }) };
}

/**
 * Pings `target` over ppp0: first waits (up to `firstWithinMs`) for one reply, since the server's
 * data path may lag the IPCP Ack by a moment (route install under UML), then sends `count` and
 * counts the replies. One ping process with a deadline (`-w`) for the first reply, so a reply that
 * is slow (a loaded UML) still counts: one `-c1 -W1` process per try would discard it.
 */
export async function pingOverPpp(
  guest: Guest,
  ns: GuestNamespace,
  target: string,
  count = 5,
  unscaledFirstWithinMs = 15_000,
): Promise<{ received: number; firstReplyMs: number | undefined; detail: string }> {
  const firstWithinMs = unscaledFirstWithinMs * guest.scale;
  const started = Date.now();
  const deadline = Math.ceil(firstWithinMs / 1000);
  const first = await guest.sh(ns, `ping -n -c1 -w ${deadline} -I ppp0 ${target} 2>&1`, { timeoutMs: unscaledFirstWithinMs + 10_000 });
  const firstReplyMs = first.code === 0 ? Date.now() - started : undefined;
  if (firstReplyMs === undefined) return { received: 0, firstReplyMs, detail: oneLine(first.stdout) };
  const result = await guest.sh(ns, `ping -n -c ${count} -i 0.2 -W ${Math.ceil(3 * guest.scale)} -I ppp0 ${target} 2>&1`, { timeoutMs: 30_000 });
  const match = /(\d+) received/.exec(result.stdout);
  return { received: match ? Number(match[1]) : 0, firstReplyMs, detail: oneLine(result.stdout) };
}

function oneLine(text: string): string {
  return text.trim().split('\n').slice(-2).join(' | ').slice(0, 200);
}

/** Waits until ppp0 is gone from `ns`; resolves with the time it took, or undefined on timeout. */
export async function waitPppGone(guest: Guest, ns: GuestNamespace, unscaledTimeoutMs: number): Promise<number | undefined> {
  const timeoutMs = unscaledTimeoutMs * guest.scale;
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const probe = await guest.sh(ns, 'ip link show ppp0 >/dev/null 2>&1');
    if (probe.code !== 0) return Date.now() - started;
    await sleep(250);
  }
  return undefined;
}

/** Number of established IKE SAs charon holds in `ns`. */
export async function ikeSaCount(guest: Guest, ns: GuestNamespace): Promise<number> {
  const result = await guest.sh(ns, "[ -S /run/charon.vici ] && swanctl --list-sas --noblock 2>/dev/null | grep -c 'ESTABLISHED'");
  return Number(result.stdout.trim()) || 0;
}

/** Hangs up from the client side (xl2tpd `d`), like a user pressing Disconnect. */
export async function hangUp(guest: Guest, ns: GuestNamespace): Promise<void> {
  await guest.sh(ns, `echo "d ${CLIENT_CONN}" > /run/xl2tpd/l2tp-control`);
}

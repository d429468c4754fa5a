/**
 * Configuration files for the real client stack (strongSwan IKEv1 initiator, xl2tpd LAC, pppd)
 * and, when the harness rather than the agent owns IPsec, for the server's charon. Pure text
 * builders: no I/O here.
 */
import type { AuthMethod } from '../../../functions/src/domain/types';
import { SERVER_ADDRESS } from './topology';

export interface ClientProfile {
  readonly localAddress: string;
  readonly username: string;
  readonly password: string;
  readonly method: AuthMethod;
  /** undefined: plain L2TP, no IPsec. */
  readonly psk?: string;
  /** Force ESP in UDP/4500 even without a NAT (strongSwan `encap = yes`). */
  readonly forceEncap?: boolean;
  /**
   * The client's own L2TP UDP port (xl2tpd `port`, and the port its IPsec selector pins). Default
   * 1701, what Windows uses; another value models clients that send L2TP from another (often
   * ephemeral) port, e.g. macOS/iOS (docs/ipsec.md "Several clients behind one NAT").
   */
  readonly l2tpPort?: number;
  /** The LNS / IKE responder address; default the `server` agent's SERVER_ADDRESS. */
  readonly server?: string;
  /** IKE (phase 1) proposals; default a modern client's, legacy last. */
  readonly ikeProposals?: readonly string[];
  /** ESP (phase 2) proposals. */
  readonly espProposals?: readonly string[];
}

/**
 * What Windows' built-in L2TP/IPsec client offers without registry changes (Microsoft KB 325158:
 * 3DES, SHA1, DH group 2 = MODP1024; AES128-SHA1 over MODP1024 as in later builds): nothing the
 * agent accepts unless legacy proposals are allowed.
 */
export const WINDOWS_IKE_PROPOSALS = ['3des-sha1-modp1024', 'aes128-sha1-modp1024'] as const;
export const WINDOWS_ESP_PROPOSALS = ['3des-sha1', 'aes128-sha1'] as const;

/** Connection and child name used on every client. */
export const CLIENT_CONN = 'vpn';

/** pppd refuses every method except the one under test, so the scenario proves that method. */
const REFUSE: Record<AuthMethod, string[]> = {
  mschapv2: ['refuse-pap', 'refuse-chap', 'refuse-mschap', 'refuse-eap'],
  'chap-md5': ['refuse-pap', 'refuse-mschap', 'refuse-mschap-v2', 'refuse-eap'],
  pap: ['refuse-chap', 'refuse-mschap', 'refuse-mschap-v2', 'refuse-eap'],
};

export function clientPppOptions(profile: ClientProfile): string {
  return [
    `name ${profile.username}`,
    `password ${profile.password}`,
    ...REFUSE[profile.method],
    'noauth',
    'noccp',
    'noipdefault',
    'ipcp-accept-local',
    'ipcp-accept-remote',
    'nodefaultroute',
    'mtu 1280',
    'mru 1280',
    'lcp-echo-interval 30',
    'lcp-echo-failure 4',
    'maxfail 1',
    'debug',
    'logfile /run/log/pppd.log',
    '',
  ].join('\n');
}

export function clientXl2tpdConf(profile: Pick<ClientProfile, 'l2tpPort' | 'server'> = {}): string {
  return [
    '[global]',
    `port = ${profile.l2tpPort ?? 1701}`,
    '',
    `[lac ${CLIENT_CONN}]`,
    `lns = ${profile.server ?? SERVER_ADDRESS}`,
    'pppoptfile = /etc/ppp/options.client',
    'length bit = yes',
    'ppp debug = yes',
    '',
  ].join('\n');
}

/** What Windows/macOS built-in clients propose (IKEv1 Main Mode, PSK, ESP transport on udp/1701). */
export function clientSwanctlConf(profile: ClientProfile): string {
  return `connections {
    ${CLIENT_CONN} {
        version = 1
        local_addrs = ${profile.localAddress}
        remote_addrs = ${profile.server ?? SERVER_ADDRESS}
        proposals = ${(profile.ikeProposals ?? ['aes256-sha1-modp2048', 'aes128-sha1-modp2048', '3des-sha1-modp1024']).join(',')}
        encap = ${profile.forceEncap ? 'yes' : 'no'}
        local {
            auth = psk
        }
        remote {
            auth = psk
        }
        children {
            ${CLIENT_CONN} {
                mode = transport
                local_ts = dynamic[udp/${profile.l2tpPort ?? 1701}]
                remote_ts = dynamic[udp/1701]
                esp_proposals = ${(profile.espProposals ?? ['aes256-sha1', 'aes128-sha1', '3des-sha1']).join(',')}
            }
        }
    }
}
secrets {
    ike-${CLIENT_CONN} {
        secret = "${profile.psk ?? ''}"
    }
}
`;
}

/** The server connection the harness loads when the agent does not drive charon itself. */
export function serverSwanctlConf(psk: string): string {
  return `connections {
    l2tp-psk {
        version = 1
        local_addrs = ${SERVER_ADDRESS}
        remote_addrs = %any
        proposals = aes256-sha256-modp2048,aes256-sha1-modp2048,aes128-sha1-modp2048,3des-sha1-modp1024
        local {
            auth = psk
        }
        remote {
            auth = psk
        }
        children {
            l2tp-psk {
                mode = transport
                local_ts = dynamic[udp/l2tp]
                remote_ts = dynamic[udp]
                esp_proposals = aes256-sha256,aes256-sha1,aes128-sha1,3des-sha1
                dpd_action = clear
            }
        }
    }
}
secrets {
    ike-l2tp {
        secret = "${psk}"
    }
}
`;
}

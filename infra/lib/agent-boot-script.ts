/**
 * The edge VM's boot script (EC2 user data), as plain lines so it is testable without CDK.
 * Values may be CDK tokens (bucket, broker URL); CloudFormation joins them in at deploy time.
 *
 * No secret is in here: the agent's bearer credential is read at service start from an SSM
 * SecureString parameter named <tokenParameterPrefix><instance-id>, which only this fleet's
 * instance role may read. The autoscaler writes it on the group's launch lifecycle action (an
 * operator may do the same by hand: POST /v1/agents, then put-parameter); the service waits until
 * it appears.
 */
import { DEFAULT_NUDGE_PORT } from '../../contract/src/command-nudge';

export interface AgentBootScriptOptions {
  /** s3://bucket/key of the zipped agent bundle folder (edge-agent.mjs [+ package.json]). */
  readonly agentBundleS3Url: string;
  /** Base URL of the broker API, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/ */
  readonly brokerUrl: string;
  /** SSM parameter path prefix ending in '/', e.g. /tunnel-broker/agents/ */
  readonly tokenParameterPrefix: string;
  /** Exact Node.js release for the VM, e.g. v22.11.0. */
  readonly nodeVersion: string;
  readonly architecture: 'arm64' | 'x64';
  /** Extra arguments after `edge-agent.mjs` in the systemd unit. */
  readonly agentArgs: readonly string[];
  /** UDP port of the agent's command-nudge listener (0 = off). @default DEFAULT_NUDGE_PORT */
  readonly commandNudgePort?: number;
}

/** Environment file the unit loads (written at each start, mode 0600, on tmpfs). */
export const AGENT_ENV_FILE = '/run/edge-agent/agent.env';

const CREDENTIALS_SCRIPT = '/usr/local/libexec/edge-agent-credentials';
/** strongSwan settings of ours, included after the packages' (strongswan.conf: `include strongswan.d/*.conf`). */
export const STRONGSWAN_OVERRIDES = '/etc/strongswan.d/zz-tunnel-broker.conf';

/** Lines of a bash script for Ubuntu 24.04: strongSwan, Node.js, the agent bundle, a systemd unit. */
export function agentBootScript(o: AgentBootScriptOptions): string[] {
  const nodeDist = `node-${o.nodeVersion}-linux-${o.architecture}`;
  const quotedArgs = o.agentArgs.map(shellQuote).join(' ');
  return [
    'set -euo pipefail',
    'export DEBIAN_FRONTEND=noninteractive',
    // strongSwan with swanctl/VICI (the agent drives it over the VICI socket); the L2TP/PPP data path is
    // the agent's own userspace code on a TUN device, so no xl2tpd/pppd.
    'apt-get update -q',
    // iptables: the agent's cloud 1:1 NAT mode (CLOUD_NAT below) writes its DNAT/SNAT rules with it.
    'apt-get install -y -q strongswan-swanctl charon-systemd iptables curl unzip xz-utils ca-certificates',
    // The forecast plugin (if a package brings it) would overwrite the packet mark the agent puts on
    // each client's datagrams with the newest SA's: clients behind one NAT need it off
    // (docs/ipsec.md, "Several clients behind one NAT"). Read after the packages' own files.
    `cat > ${STRONGSWAN_OVERRIDES} <<'SWAN'`,
    'charon {',
    '    plugins {',
    '        forecast {',
    '            load = no',
    '        }',
    '    }',
    '}',
    'SWAN',
    'snap install aws-cli --classic || snap refresh aws-cli',
    // Node.js from the official tarball, checked against the release's SHASUMS256.
    `cd /tmp && curl -fsSLO https://nodejs.org/dist/${o.nodeVersion}/${nodeDist}.tar.xz`,
    `curl -fsSL https://nodejs.org/dist/${o.nodeVersion}/SHASUMS256.txt | grep " ${nodeDist}.tar.xz$" | sha256sum -c -`,
    `mkdir -p /opt/node && tar -xJf /tmp/${nodeDist}.tar.xz -C /opt/node --strip-components=1`,
    // The agent bundle; a package.json next to it lists native modules (e.g. koffi) to install for this CPU.
    'rm -rf /opt/edge-agent && mkdir -p /opt/edge-agent',
    `/snap/bin/aws s3 cp '${o.agentBundleS3Url}' /tmp/edge-agent.zip`,
    'unzip -q -o /tmp/edge-agent.zip -d /opt/edge-agent',
    'if [ -f /opt/edge-agent/package.json ]; then (cd /opt/edge-agent && PATH=/opt/node/bin:$PATH npm install --omit=dev --no-audit --no-fund); fi',
    `mkdir -p "$(dirname ${CREDENTIALS_SCRIPT})"`,
    `cat > ${CREDENTIALS_SCRIPT} <<'CREDS'`,
    ...credentialsScript(o),
    'CREDS',
    `chmod 0700 ${CREDENTIALS_SCRIPT}`,
    "cat > /etc/systemd/system/edge-agent.service <<'UNIT'",
    '[Unit]',
    'Description=tunnel-broker edge agent (L2TP LNS + PPP, IPsec via strongSwan)',
    'Wants=network-online.target strongswan.service',
    'After=network-online.target strongswan.service',
    '[Service]',
    'Type=simple',
    // Waits (possibly long) for the enrolment parameter, so no start timeout.
    'TimeoutStartSec=infinity',
    'RuntimeDirectory=edge-agent',
    'RuntimeDirectoryMode=0700',
    'StateDirectory=edge-agent', // /var/lib/edge-agent: the agent's outbox of undelivered reports
    'StateDirectoryMode=0700', // the outbox names users
    `ExecStartPre=${CREDENTIALS_SCRIPT}`,
    `EnvironmentFile=${AGENT_ENV_FILE}`,
    `ExecStart=/opt/node/bin/node --enable-source-maps /opt/edge-agent/edge-agent.mjs${quotedArgs ? ` ${quotedArgs}` : ''}`,
    'Restart=always',
    'RestartSec=5',
    // SIGTERM lets the agent report its sessions stopped (reason agent-shutdown) before exiting.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=60',
    '[Install]',
    'WantedBy=multi-user.target',
    'UNIT',
    'systemctl daemon-reload',
    'systemctl enable --now strongswan.service',
    'systemctl enable --now edge-agent.service',
  ];
}

/** The script the unit runs before each start: IMDS and SSM to the environment file the agent reads. */
export function credentialsScript(o: AgentBootScriptOptions): string[] {
  return [
    '#!/bin/bash',
    '# Writes the agent environment from instance metadata (IMDSv2) and its SSM credential.',
    'set -euo pipefail',
    'imds() {',
    '  local t',
    "  t=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')",
    '  curl -fsS -H "X-aws-ec2-metadata-token: $t" "http://169.254.169.254/latest/meta-data/$1"',
    '}',
    'INSTANCE_ID=$(imds instance-id)',
    'REGION=$(imds placement/region)',
    'PUBLIC_IP=$(imds public-ipv4)',
    // The VPC's blocks: the broker refuses pools overlapping them (the agent adds its interfaces' networks).
    'MAC=$(imds mac)',
    'VPC_CIDRS=$(imds "network/interfaces/macs/$MAC/vpc-ipv4-cidr-blocks" | paste -sd, -)',
    `PARAM='${o.tokenParameterPrefix}'"$INSTANCE_ID"`,
    'until TOKEN=$(/snap/bin/aws ssm get-parameter --region "$REGION" --with-decryption --name "$PARAM" --query Parameter.Value --output text 2>/dev/null); do',
    '  echo "waiting for enrolment parameter $PARAM" >&2; sleep 15',
    'done',
    'umask 077',
    `mkdir -p "$(dirname ${AGENT_ENV_FILE})"`,
    // tba_<agentId>_<secret>: ids never contain "_" (functions/src/domain/bearer-tokens.ts).
    'REST=${TOKEN#tba_}',
    'AGENT_ID=${REST%%_*}',
    // Variable names are the edge agent's own settings (edge-agent/src/config.ts, AGENT_SETTINGS).
    `cat > ${AGENT_ENV_FILE} <<ENV`,
    `BROKER_URL=${o.brokerUrl}`,
    'AGENT_ID=$AGENT_ID',
    'AGENT_TOKEN=$TOKEN',
    'PUBLIC_ADDRESS=$PUBLIC_IP',
    'HOST_NETWORKS=$VPC_CIDRS',
    'IPSEC=strongswan',
    // The instance sits behind the VPC's 1:1 NAT (its public IP is not on any interface): the agent
    // makes PUBLIC_ADDRESS local and DNATs IKE/NAT-T/ESP to it, so Windows clients see no NAT on our
    // side and need no registry edit (docs/ipsec.md "Cloud 1:1 NAT"). `on`, not `auto`: a host
    // where it cannot work should fail loudly rather than serve Windows clients error 809.
    'CLOUD_NAT=on',
    // The broker nudges the agent here to fetch a queued command (a disconnect) at once; the
    // security group opens the same port (edge-fleet.ts).
    `COMMAND_NUDGE_PORT=${o.commandNudgePort ?? DEFAULT_NUDGE_PORT}`,
    'ENV',
  ];
}

/** Single-quotes a word for bash. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

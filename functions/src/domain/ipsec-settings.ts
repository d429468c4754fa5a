/**
 * Fleet-wide IPsec settings. The PSK is sealed with the secret box (context `ipsec-psk`, padded
 * so its length does not show) and only opened for agents; operators see whether one is set and
 * its revision, never the value.
 */
import { PADDED_SECRET_BYTES } from './ppp-auth';
import type { ServiceContext } from './service-context';
import type { IpsecSettings } from './types';

const PSK_CONTEXT = 'ipsec-psk';

/**
 * Legacy proposals (3DES, SHA1, MODP1024/1536) are on unless an operator turns them off: Windows'
 * built-in client offers only 3DES-SHA1-MODP1024 unless a registry value is set (Microsoft KB
 * 325158), and a managed service cannot ask every user for a registry edit. Before this default a
 * PUT without the field stored `false`; such stored values are kept (docs/ipsec.md).
 */
export const DEFAULT_ALLOW_LEGACY_PROPOSALS = true;

export interface PutIpsecInput {
  readonly psk: string;
  readonly allowLegacyProposals?: boolean;
}

/**
 * Replaces the settings and bumps the revision; agents notice the new revision in heartbeat replies.
 * `allowLegacyProposals` left out keeps the stored value (an explicit `false` stays `false`), and
 * is DEFAULT_ALLOW_LEGACY_PROPOSALS when nothing is stored yet.
 */
export async function putIpsecSettings(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'secretBox'>,
  input: PutIpsecInput,
): Promise<IpsecSettings> {
  const current = await ctx.store.getIpsecSettings();
  const settings: IpsecSettings = {
    psk: ctx.secretBox.encrypt(input.psk, PSK_CONTEXT, { padTo: PADDED_SECRET_BYTES }),
    allowLegacyProposals: input.allowLegacyProposals ?? current?.allowLegacyProposals ?? DEFAULT_ALLOW_LEGACY_PROPOSALS,
    updatedAt: ctx.clock.now(),
    revision: (current?.revision ?? 0) + 1,
  };
  await ctx.store.putIpsecSettings(settings);
  return settings;
}

/** What an agent needs to configure strongSwan; undefined before an operator set a PSK. */
export async function agentIpsecSettings(
  ctx: Pick<ServiceContext, 'store' | 'secretBox'>,
): Promise<{ psk: string; allowLegacyProposals: boolean; revision: number } | undefined> {
  const settings = await ctx.store.getIpsecSettings();
  if (!settings) return undefined;
  return {
    psk: ctx.secretBox.decrypt(settings.psk, PSK_CONTEXT).toString('utf8'),
    allowLegacyProposals: settings.allowLegacyProposals,
    revision: settings.revision,
  };
}

/** The revision agents compare against (0 = never set). */
export async function ipsecRevision(ctx: Pick<ServiceContext, 'store'>): Promise<number> {
  return (await ctx.store.getIpsecSettings())?.revision ?? 0;
}

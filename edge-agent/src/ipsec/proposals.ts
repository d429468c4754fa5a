/**
 * IKEv1 (phase 1) and ESP (phase 2) proposals for L2TP/IPsec clients, in strongSwan's proposal
 * syntax (swanctl.conf(5) "proposals", "esp_proposals").
 *
 * Order matters: charon's responder picks the first of OUR proposals that the client also offers
 * (charon.prefer_configured_proposals defaults to yes), so the strongest come first. Which client
 * offers what is summarised in docs/ipsec.md; the legacy sets exist only because built-in clients
 * still offer nothing better in some configurations, and can be switched off per fleet
 * (IpsecSettings.allowLegacyProposals).
 */

/** AES-CBC with SHA2-256/SHA1 over MODP2048 or the NIST curves (Windows 10/11 offer ECP384/ECP256). */
export const SECURE_IKE_PROPOSALS = [
  'aes256-sha256-modp2048',
  'aes128-sha256-modp2048',
  'aes256-sha256-ecp384',
  'aes128-sha256-ecp256',
  'aes256-sha1-ecp384',
  'aes128-sha1-ecp256',
  'aes256-sha1-modp2048',
  'aes128-sha1-modp2048',
] as const;

/** MODP1536/MODP1024 groups and 3DES: what older Android/macOS/Windows defaults need. */
export const LEGACY_IKE_PROPOSALS = [
  'aes256-sha1-modp1536',
  'aes128-sha1-modp1536',
  'aes256-sha1-modp1024',
  'aes128-sha1-modp1024',
  '3des-sha1-modp2048',
  '3des-sha1-modp1024',
] as const;

/** No DH group: L2TP clients do not use PFS in quick mode. */
export const SECURE_ESP_PROPOSALS = ['aes256-sha256', 'aes128-sha256', 'aes256-sha1', 'aes128-sha1'] as const;

export const LEGACY_ESP_PROPOSALS = ['3des-sha1'] as const;

export interface ProposalSet {
  readonly ike: readonly string[];
  readonly esp: readonly string[];
}

/** The proposal lists for a settings choice: secure first, legacy appended when allowed. */
export function l2tpProposals(allowLegacy: boolean): ProposalSet {
  return {
    ike: [...SECURE_IKE_PROPOSALS, ...(allowLegacy ? LEGACY_IKE_PROPOSALS : [])],
    esp: [...SECURE_ESP_PROPOSALS, ...(allowLegacy ? LEGACY_ESP_PROPOSALS : [])],
  };
}

/**
 * The commands the agent issues, over any ViciSession (real client or fake). They check
 * `success` and throw ViciCommandError with strongSwan's errmsg, so callers only see outcomes.
 */
import type { ViciSession } from './client';
import { ViciCommandError } from './errors';
import type { ViciMessage, ViciSection } from './message-codec';
import {
  listSasMessage,
  loadL2tpPskConnMessage,
  loadSharedIkeMessage,
  terminateIkeMessage,
  unloadConnMessage,
  type L2tpPskConnOptions,
  type ListSasOptions,
  type LoadSharedOptions,
  type TerminateOptions,
} from './messages';

/** Throws ViciCommandError unless the response says `success = yes`. */
export function expectSuccess(command: string, response: ViciMessage): ViciMessage {
  if (response.success !== 'yes') {
    throw new ViciCommandError(command, typeof response.errmsg === 'string' ? response.errmsg : undefined);
  }
  return response;
}

export async function loadL2tpPskConn(vici: ViciSession, options: L2tpPskConnOptions): Promise<void> {
  expectSuccess('load-conn', await vici.request('load-conn', loadL2tpPskConnMessage(options)));
}

export async function unloadConn(vici: ViciSession, name: string): Promise<void> {
  expectSuccess('unload-conn', await vici.request('unload-conn', unloadConnMessage(name)));
}

export async function loadSharedIke(vici: ViciSession, options: LoadSharedOptions): Promise<void> {
  expectSuccess('load-shared', await vici.request('load-shared', loadSharedIkeMessage(options)));
}

export async function terminateIke(vici: ViciSession, options: TerminateOptions): Promise<void> {
  expectSuccess('terminate', await vici.request('terminate', terminateIkeMessage(options)));
}

/** One IKE_SA from a `list-sa` event: its config name and the section strongSwan sent. */
export interface ListedSa {
  readonly name: string;
  readonly sa: ViciSection;
}

/** `list-sas`, collecting the streamed `list-sa` events (README "list-sa"). */
export async function listSas(vici: ViciSession, options: ListSasOptions = {}): Promise<ListedSa[]> {
  const out: ListedSa[] = [];
  await vici.streamedRequest('list-sas', listSasMessage(options), 'list-sa', (message) => {
    for (const [name, sa] of Object.entries(message)) {
      if (typeof sa === 'object' && !Array.isArray(sa) && !Buffer.isBuffer(sa)) out.push({ name, sa: sa as ViciSection });
    }
  });
  return out;
}

/** A PPP authentication as the agent relays it (contract: AgentAuthenticate): what auth-service.ts verifies. */

/** What every authentication names besides the method's own fields. */
export interface AuthCommon {
  readonly username: string;
  /** The agent's reference of the session being set up: the grant is good for this one only. */
  readonly agentSessionRef: string;
  /** The client's address as the agent sees it (the throttle source). */
  readonly peerAddress: string;
}

export type AuthRequest = AuthCommon &
  (
    | { readonly method: 'pap'; readonly password: string }
    | { readonly method: 'chap-md5'; readonly id: number; readonly challenge: string; readonly response: string }
    | { readonly method: 'mschapv2'; readonly id?: number; readonly authenticatorChallenge: string; readonly peerChallenge: string; readonly ntResponse: string }
  );

// Who is acting: the vocabulary every layer shares (web authenticates it, use-cases authorise by it).
/** `exchange`: another e-seal platform's data-exchange client (I2), API only, bound to one listed platform. */
export type Role = 'officer' | 'supervisor' | 'maker' | 'holder' | 'admin' | 'exchange';

export interface Actor {
  userId: string;
  username: string;
  role: Role;
  districtCode: string | null;
  makerId: string | null;
  holderId: string | null;
  /** U2: set when a registered API client acts (through its service account), with the scopes of its token. */
  client?: ActingClient;
}

export interface ActingClient {
  id: string;
  name: string;
  tier: 'government' | 'maker' | 'enterprise' | 'platform';
  scopes: ReadonlyArray<'issue' | 'sign' | 'verify' | 'exchange'>;
}

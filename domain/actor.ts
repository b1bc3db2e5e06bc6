// Who is acting: the vocabulary every layer shares (web authenticates it, use-cases authorise by it).
export type Role = 'officer' | 'supervisor' | 'maker' | 'holder' | 'admin';

export interface Actor {
  userId: string;
  username: string;
  role: Role;
  districtCode: string | null;
  makerId: string | null;
  holderId: string | null;
}

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Answer } from '../api/client';

export type CurrentUser = Answer<'/api/users/me', 'get'>;

export interface SessionValue {
  user: CurrentUser;
  isAdmin: boolean;
  spaceId: string;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionValue | undefined>(undefined);

export function useSession(): SessionValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}

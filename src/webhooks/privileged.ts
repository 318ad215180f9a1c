// Who counts as privileged for the admission rules: members of system:masters, the operator's own service
// account, and the users the manager's configuration names. Decided from the request's userInfo only.
import type { UserInfo } from './admission.js';

export interface PrivilegeConfig {
  /** The operator's service account user name, e.g. system:serviceaccount:vmop-system:vmop-controller-manager. */
  serviceAccount?: string;
  /** Further user names with privileges (PRIVILEGED_USERS). */
  privilegedUsers: readonly string[];
}

export function isPrivileged(user: UserInfo, config: PrivilegeConfig): boolean {
  if (user.groups?.includes('system:masters')) return true;
  if (!user.username) return false;
  if (config.serviceAccount && user.username === config.serviceAccount) return true;
  return config.privilegedUsers.includes(user.username);
}

/** Parses a comma-separated user list ("alice, bob") as PRIVILEGED_USERS gives it. */
export function parseUserList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
}

// permissions.ts: Xen's node permission lists — parsing, formatting and the access check.
import { XsError } from '../../abi/io/xs-error.ts';

/** n = none, r = read, w = write, b = both. */
export type XsPermLetter = 'n' | 'r' | 'w' | 'b';

/** One entry of a node's list. The first names the owner, and its letter is everyone else's default. */
export interface XsPerm {
  id: number;
  perm: XsPermLetter;
}

/** Who is asking: a domain id, dom0-level privilege, and a SET_TARGET target (device models). */
export interface Caller {
  domid: number;
  privileged: boolean;
  target?: number;
}

export const DOM0_CALLER: Caller = { domid: 0, privileged: true };

/** Xen's domid_t is 16 bits; DOMID_FIRST_RESERVED and above never own nodes but may appear. */
const DOMID_MAX = 0xffff;

export function parsePerm(s: string): XsPerm {
  const m = /^([nrwb])([0-9]{1,5})$/.exec(s);
  if (!m || Number(m[2]) > DOMID_MAX) throw new XsError('EINVAL', `bad permission '${s}'`);
  return { perm: m[1] as XsPermLetter, id: Number(m[2]) };
}

export function formatPerm(p: XsPerm): string {
  return `${p.perm}${p.id}`;
}

/** Validate a list given by a caller (SET_PERMS, local setPerms): at least the owner entry. */
export function checkPermList(perms: readonly XsPerm[]): XsPerm[] {
  if (perms.length === 0) throw new XsError('EINVAL', 'empty permission list');
  return perms.map((p) => {
    if (!Number.isInteger(p.id) || p.id < 0 || p.id > DOMID_MAX || !'nrwb'.includes(p.perm)) {
      throw new XsError('EINVAL', `bad permission ${JSON.stringify(p)}`);
    }
    return { id: p.id, perm: p.perm };
  });
}

export interface Access {
  read: boolean;
  write: boolean;
  /** Owner (or privileged): may SET_PERMS. */
  owner: boolean;
}

const ALL: Access = { read: true, write: true, owner: true };

/**
 * Xen's perm_for_conn(): privileged callers and the owner (or a caller whose SET_TARGET target is
 * the owner) get everything; otherwise the caller's own entry, else the owner entry's letter.
 */
export function accessFor(caller: Caller, perms: readonly XsPerm[]): Access {
  if (caller.privileged) return ALL;
  const owner = perms[0]!;
  if (owner.id === caller.domid || (caller.target !== undefined && owner.id === caller.target)) return ALL;
  const mine = perms.slice(1).find((p) => p.id === caller.domid) ?? owner;
  return { read: mine.perm === 'r' || mine.perm === 'b', write: mine.perm === 'w' || mine.perm === 'b', owner: false };
}

export function canRead(caller: Caller, perms: readonly XsPerm[]): boolean {
  return accessFor(caller, perms).read;
}

// path.ts: xenstore path validation, relative-path resolution and tree relationships.
import { XENSTORE } from '../../abi/io/xs-wire.ts';
import { XsError } from '../../abi/io/xs-error.ts';

/** XENSTORE_ABS_PATH_MAX and XENSTORE_REL_PATH_MAX (xs_wire.h). */
export const ABS_PATH_MAX = XENSTORE.values.ABS_PATH_MAX;
export const REL_PATH_MAX = XENSTORE.values.REL_PATH_MAX;

export const DOMAIN_ROOT = '/local/domain';

/** Watch-only pseudo paths the daemon fires itself; they never name a node. */
export const INTRODUCE_DOMAIN = '@introduceDomain';
export const RELEASE_DOMAIN = '@releaseDomain';

const VALID_CHARS = /^[A-Za-z0-9\-/_@]*$/;

export function domainPath(domid: number): string {
  return `${DOMAIN_ROOT}/${domid}`;
}

/** True for paths that name a pseudo node (`@…`) rather than a tree node. */
export function isSpecial(path: string): boolean {
  return path.startsWith('@');
}

/**
 * Resolve a path as received from `domid` to an absolute one, or throw EINVAL.
 * Relative paths (no leading "/") are relative to the domain's home, as Xen's canonicalize() does;
 * `@…` pseudo paths pass through only where `allowSpecial` (watches and their permissions).
 * The rules are Xen's is_valid_nodename(): chars alnum and `-/_@`, no `//`, no trailing `/`
 * except the root itself, and the length limits (relative paths are checked before the prefix).
 */
export function resolvePath(path: string, domid: number, allowSpecial = false): string {
  if (!VALID_CHARS.test(path)) throw new XsError('EINVAL', 'invalid character in path');
  let abs: string;
  if (path.startsWith('/')) {
    abs = path;
  } else if (path.startsWith('@')) {
    if (!allowSpecial) throw new XsError('EINVAL', 'special path not allowed here');
    abs = path;
  } else {
    if (path.length === 0) throw new XsError('EINVAL', 'empty path');
    if (path.length > REL_PATH_MAX) throw new XsError('EINVAL', 'relative path too long');
    abs = `${domainPath(domid)}/${path}`;
  }
  if (abs.length > ABS_PATH_MAX) throw new XsError('EINVAL', 'path too long');
  if (abs.includes('//')) throw new XsError('EINVAL', 'empty path component');
  if (abs.endsWith('/') && abs !== '/') throw new XsError('EINVAL', 'trailing slash');
  if (abs === '@') throw new XsError('EINVAL', 'empty special path');
  return abs;
}

/** The path a watcher sees: relative to its home if it registered a relative watch. */
export function viewPath(abs: string, domid: number, relative: boolean): string {
  if (!relative) return abs;
  const home = `${domainPath(domid)}/`;
  return abs.startsWith(home) ? abs.slice(home.length) : abs;
}

export function parentOf(abs: string): string {
  if (abs === '/') return '/';
  const i = abs.lastIndexOf('/');
  return i <= 0 ? '/' : abs.slice(0, i);
}

export function baseName(abs: string): string {
  return abs.slice(abs.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Levels `path` lies below `ancestor` (0 = same node), or -1 if it is not in that subtree. */
export function depthBelow(path: string, ancestor: string): number {
  if (path === ancestor) return 0;
  const prefix = ancestor === '/' ? '/' : `${ancestor}/`;
  if (!path.startsWith(prefix)) return -1;
  let n = 1;
  for (let i = prefix.length; i < path.length; i++) if (path.charCodeAt(i) === 47) n++;
  return n;
}

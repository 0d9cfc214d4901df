// quota.ts: per-domain limits for unprivileged callers, with Xen's defaults and Xen's error codes.
import { XsError } from '../../abi/io/xs-error.ts';

export interface XsQuota {
  /** Nodes a domain may own (Xen: quota_nb_entry_per_domain, default 1000). */
  nodesPerDomain: number;
  /** Watches per connection (Xen: quota_nb_watch_per_domain, default 128). */
  watchesPerDomain: number;
  /** Open transactions per connection (Xen: quota_max_transaction, default 10). */
  transactionsPerDomain: number;
  /** Largest node value in bytes (Xen: quota_max_entry_size, default 2048). */
  maxEntrySize: number;
}

export const DEFAULT_QUOTA: XsQuota = {
  nodesPerDomain: 1000, watchesPerDomain: 128, transactionsPerDomain: 10, maxEntrySize: 2048,
};

export function makeQuota(over?: Partial<XsQuota>): XsQuota {
  return { ...DEFAULT_QUOTA, ...over };
}

/*
 * Error codes follow xenstored (C): a domain over its node count or writing an over-size value
 * gets ENOSPC; a watch past the limit gets E2BIG; a transaction past the limit gets ENOSPC.
 * Privileged callers (dom0, socket clients) are never limited.
 */

export function checkNodes(q: XsQuota, owned: number, adding: number): void {
  if (owned + adding > q.nodesPerDomain) throw new XsError('ENOSPC', 'node quota exceeded');
}

export function checkEntrySize(q: XsQuota, bytes: number): void {
  if (bytes > q.maxEntrySize) throw new XsError('ENOSPC', 'node value too large');
}

export function checkWatches(q: XsQuota, count: number): void {
  if (count >= q.watchesPerDomain) throw new XsError('E2BIG', 'watch quota exceeded');
}

export function checkTransactions(q: XsQuota, open: number): void {
  if (open >= q.transactionsPerDomain) throw new XsError('ENOSPC', 'transaction quota exceeded');
}

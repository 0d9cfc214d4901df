// store-api.ts: the slice of xenstore the backend-side xenbus helpers need, so they run against
// dom0's in-process xenstored or a test fake alike.

export type XenbusPermLetter = 'n' | 'r' | 'w' | 'b';

/** One permission entry; the first entry names the owner and the default for everyone else. */
export interface XenbusPerm {
  id: number;
  perm: XenbusPermLetter;
}

export interface XenbusStore {
  /** A node's value, or null if it does not exist. */
  read(path: string): string | null;
  /** Create or overwrite a node; missing parents are created. */
  write(path: string, value: string): void;
  mkdir(path: string): void;
  /** Remove a node and everything below it; removing a missing node is not an error. */
  rm(path: string): void;
  /** Child names, or null if the node does not exist. */
  directory(path: string): string[] | null;
  setPerms(path: string, perms: XenbusPerm[]): void;
  /** Watch a node and its subtree. Fires once immediately, like XS_WATCH; returns the unwatch. */
  watch(path: string, cb: (path: string) => void): () => void;
  /** Run `fn` atomically; watches fire after it commits. */
  transaction<T>(fn: (tx: XenbusTx) => T): T;
}

/** What a transaction body may do. */
export type XenbusTx = Omit<XenbusStore, 'watch' | 'transaction'>;

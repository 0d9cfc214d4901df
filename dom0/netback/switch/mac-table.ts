// mac-table.ts: the learning table of the virtual switch — which port a MAC address was last seen
// on, bounded (the oldest entry goes first) and aged (an entry not refreshed for `ageMs` is gone),
// so a guest inventing source addresses cannot grow dom0's memory.

/** A MAC as a number (48 bits fit a double exactly): cheap to hash, no string per frame. */
export function macAt(b: Uint8Array, at: number): number {
  return ((b[at]! * 0x100 + b[at + 1]!) * 0x10000 + ((b[at + 2]! << 8) | b[at + 3]!)) * 0x10000 + ((b[at + 4]! << 8) | b[at + 5]!);
}

export function parseMac(s: string): number[] {
  const parts = s.split(':').map((h) => parseInt(h, 16));
  if (parts.length !== 6 || parts.some((n) => !(n >= 0 && n <= 255))) throw new RangeError(`bad MAC '${s}'`);
  return parts;
}

export class MacTable<P> {
  /** Insertion order is refresh order: the first entry is the least recently seen. */
  private readonly entries = new Map<number, { port: P; seen: number }>();

  constructor(readonly capacity = 1024, readonly ageMs = 300_000, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.entries.size;
  }

  learn(mac: number, port: P): void {
    this.entries.delete(mac);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(mac, { port, seen: this.now() });
  }

  lookup(mac: number): P | undefined {
    const e = this.entries.get(mac);
    if (e === undefined) return undefined;
    if (this.now() - e.seen > this.ageMs) {
      this.entries.delete(mac);
      return undefined;
    }
    return e.port;
  }

  /** Forget every address learnt on a port that is going away. */
  forget(port: P): void {
    for (const [mac, e] of this.entries) if (e.port === port) this.entries.delete(mac);
  }
}

// slot-table.ts: a fixed table of small records in a SharedArrayBuffer that several threads
// share — one thread claims and fills entries, another follows the changes (host/fd-watch.ts).
//
// Each slot is `words` Int32 words: word 0 is the slot's state, the rest its fields. A claim is a
// compare-and-swap FREE → CLAIMED, so two threads never take the same slot; the fields are written
// before the state becomes ACTIVE (Atomics.store orders them), so a reader that sees ACTIVE sees
// them too.

/** Slot states every table shares; CLOSING asks the watching thread to reap the slot's fd. */
export const SLOT = { FREE: 0, ACTIVE: 1, CLOSING: 2, CLAIMED: 3 } as const;

export class SlotTable {
  private readonly w: Int32Array;

  /** Bytes a table of `slots` slots of `words` words needs. */
  static bytes(slots: number, words: number): number {
    return slots * words * 4;
  }

  constructor(sab: SharedArrayBuffer, offset: number, readonly slots: number, readonly words: number) {
    this.w = new Int32Array(sab, offset, slots * words);
  }

  state(i: number): number { return Atomics.load(this.w, i * this.words); }
  setState(i: number, s: number): void { Atomics.store(this.w, i * this.words, s); }
  /** Move slot `i` from state `from` to `to` if it is still in `from` (compare-and-swap). */
  transition(i: number, from: number, to: number): boolean {
    return Atomics.compareExchange(this.w, i * this.words, from, to) === from;
  }
  /** Field `k` (1-based: word 0 is the state) of slot `i`. */
  field(i: number, k: number): number { return this.w[i * this.words + k]!; }

  /** Claim a FREE slot at index `from` or above; -1 when none is left. */
  claim(from = 0): number {
    for (let i = from; i < this.slots; i++) {
      if (Atomics.compareExchange(this.w, i * this.words, SLOT.FREE, SLOT.CLAIMED) === SLOT.FREE) return i;
    }
    return -1;
  }

  /** Write a claimed slot's fields (words 1..), then publish it with `state` (ACTIVE by default). */
  fill(i: number, fields: readonly number[], state: number = SLOT.ACTIVE): void {
    if (fields.length >= this.words) throw new RangeError(`slot has ${this.words - 1} fields, got ${fields.length}`);
    const o = i * this.words;
    fields.forEach((v, k) => { this.w[o + 1 + k] = v; });
    Atomics.store(this.w, o, state);
  }
}

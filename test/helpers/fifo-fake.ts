// fifo-fake.ts: a domain without KVM for the event-channel unit tests — its shared slot, port table
// and "guest memory" are SharedArrayBuffers, so worker threads can open the same domain, and the
// VM records the interrupts it would inject. Also the guest's side of the FIFO ABI (Linux's
// consume loop) over that memory, to check what the hypervisor links.
import { DomainShared } from '../../hypervisor/state/shared-state.ts';
import { PortTable, PORT_TABLE_BYTES } from '../../hypervisor/state/port-table.ts';
import type { DomainHandle } from '../../hypervisor/state/domain-handle.ts';
import type { KvmVm } from '../../hypervisor/kvm/vm.ts';
import { EVTCHN_FIFO, EvtchnFifoControlBlock } from '../../abi/event-channel.ts';

export const PAGE = 4096;
/** Page 0 holds shared_info, page 1 the control blocks, pages from ARRAY_BASE the event array. */
export const CONTROL_PAGE = 1;
export const ARRAY_BASE = 8;
export const MEM_PAGES = 64;

export interface FakeBuffers {
  readonly shared: SharedArrayBuffer;
  readonly ports: SharedArrayBuffer;
  readonly mem: SharedArrayBuffer;
  /** [0]: MSIs signalled, [1]: PIC pulses. */
  readonly irqs: SharedArrayBuffer;
}

export function makeBuffers(): FakeBuffers {
  const shared = new DomainShared();
  shared.sharedInfoOffset = 0;
  shared.setUpcallVector(0, 0xf3);
  shared.setUpcallVector(1, 0xf3);
  return {
    shared: shared.sab, ports: new SharedArrayBuffer(PORT_TABLE_BYTES),
    mem: new SharedArrayBuffer(MEM_PAGES * PAGE), irqs: new SharedArrayBuffer(8),
  };
}

export interface Fake extends DomainHandle {
  /** Interrupts the fake VM was asked to deliver: [0] MSIs, [1] PIC pulses. */
  readonly irqs: Int32Array;
}

export function fakeHandle(b: FakeBuffers): Fake {
  const irqs = new Int32Array(b.irqs);
  const vm = {
    signalMsi: () => { Atomics.add(irqs, 0, 1); },
    irqLine: (_gsi: number, level: number) => { if (level === 1) Atomics.add(irqs, 1, 1); },
  } as unknown as KvmVm;
  const u8 = new Uint8Array(b.mem);
  return {
    domid: 7, shared: new DomainShared(b.shared, 0), ports: new PortTable(b.ports, 0), u8,
    i32: new Int32Array(b.mem), vm, irqs,
  };
}

const F = EVTCHN_FIFO.values;
export const PENDING = 1 << F.PENDING;
export const MASKED = 1 << F.MASKED;
export const LINKED = 1 << F.LINKED;
export const BUSY = 1 << F.BUSY;
const READY = EvtchnFifoControlBlock.byName.ready.offset;
const HEAD = EvtchnFifoControlBlock.byName.head.offset;

/** The guest's view: event words and the control block of one vCPU. */
export class GuestFifo {
  private readonly localHead = new Array<number>(F.MAX_QUEUES).fill(0);
  private ready = 0;

  constructor(private readonly i32: Int32Array, private readonly cbOffset: number) {}

  word(port: number): number {
    return ((ARRAY_BASE * PAGE) >> 2) + port;
  }

  get(port: number): number { return Atomics.load(this.i32, this.word(port)); }
  set(port: number, v: number): void { Atomics.store(this.i32, this.word(port), v); }
  link(port: number): number { return this.get(port) & F.LINK_MASK; }
  readyBits(): number { return Atomics.load(this.i32, (this.cbOffset + READY) >> 2); }
  head(prio: number): number { return Atomics.load(this.i32, ((this.cbOffset + HEAD) >> 2) + prio); }

  /**
   * Linux's consume loop: take the ready bits, and per queue (highest priority first) unlink the
   * head, follow its LINK, and hand each pending unmasked event to `fn`. Returns events handled.
   */
  consume(fn: (port: number) => void, max = Infinity): number {
    let n = 0;
    this.ready |= Atomics.exchange(this.i32, (this.cbOffset + READY) >> 2, 0);
    while (this.ready !== 0 && n < max) {
      const prio = 31 - Math.clz32(this.ready & -this.ready);
      let head = this.localHead[prio]!;
      if (head === 0) head = this.head(prio);
      // Unlink: clear LINKED and LINK, keeping the link we had.
      let old = this.get(head);
      for (;;) {
        const seen = Atomics.compareExchange(this.i32, this.word(head), old, old & ~(LINKED | F.LINK_MASK));
        if (seen === old) break;
        old = seen;
      }
      const next = old & F.LINK_MASK;
      if (next === 0) this.ready &= ~(1 << prio);
      if ((Atomics.and(this.i32, this.word(head), ~PENDING) & PENDING) !== 0 && (old & MASKED) === 0) {
        fn(head);
        n++;
      }
      this.localHead[prio] = next;
      this.ready |= Atomics.exchange(this.i32, (this.cbOffset + READY) >> 2, 0);
    }
    return n;
  }
}

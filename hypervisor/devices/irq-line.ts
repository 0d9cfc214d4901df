// irq-line.ts: an ISA interrupt line as devices see it — a level they drive, forwarded to KVM's in-kernel PIC/IOAPIC.
import type { KvmVm } from '../kvm/vm.ts';

/**
 * A device drives its line high while it has an interrupt pending and low once the guest has
 * acknowledged it (as an ISA device does); the PIC and IOAPIC latch the rising edge.
 */
export interface IrqLine {
  set(high: boolean): void;
}

/** KVM_IRQ_LINE on one GSI, issued only on changes (a VM ioctl: no vCPU load, any thread). */
export class KvmIrqLine implements IrqLine {
  private level = false;

  constructor(private readonly vm: KvmVm, readonly gsi: number) {
    // Start from a known low level: a previous owner of the GSI may have left it high.
    vm.irqLine(gsi, 0);
  }

  set(high: boolean): void {
    if (high === this.level) return;
    this.level = high;
    this.vm.irqLine(this.gsi, high ? 1 : 0);
  }
}

/** A line that records its level and rising edges (unit tests). */
export class RecordingIrqLine implements IrqLine {
  level = false;
  raised = 0;

  set(high: boolean): void {
    if (high && !this.level) this.raised++;
    this.level = high;
  }
}

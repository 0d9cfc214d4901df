// index.ts: the default hypercall table — every family pvkvm implements, registered once.
import { HypercallTable } from './table.ts';
import { registerXenVersion } from './xen-version.ts';
import { registerConsoleIo } from './console-io.ts';
import { registerSchedOp } from './sched-op.ts';
import { registerMemoryOp } from './memory-op.ts';
import { registerHvmOp } from './hvm-op.ts';
import { registerVmAssist } from './vm-assist.ts';
import { registerMulticall } from './multicall.ts';
import { registerEventChannelOp } from './event-channel-op.ts';
import { registerVcpuOp } from './vcpu-op.ts';
import { registerSetTimerOp } from './set-timer-op.ts';
import { registerGrantTableOp } from './grant-table-op.ts';

export function buildHypercallTable(counts?: Float64Array): HypercallTable {
  const table = new HypercallTable(counts);
  registerXenVersion(table);
  registerConsoleIo(table);
  registerSchedOp(table);
  registerMemoryOp(table);
  registerHvmOp(table);
  registerVmAssist(table);
  registerMulticall(table);
  registerEventChannelOp(table);
  registerVcpuOp(table);
  registerSetTimerOp(table);
  registerGrantTableOp(table);
  return table;
}

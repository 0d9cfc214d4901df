// sched.ts: sched_op commands, shutdown reasons and argument structs (sched.h).
import { defineConstants, defineStruct } from './layout.ts';

export const SCHEDOP = defineConstants('sched_op commands', 'SCHEDOP_', {
  yield: 0, block: 1, shutdown: 2, poll: 3, remote_shutdown: 4, shutdown_code: 5, watchdog: 6,
  pin_override: 7,
});

export const SHUTDOWN = defineConstants('Shutdown reasons', 'SHUTDOWN_', {
  poweroff: 0, reboot: 1, suspend: 2, crash: 3, watchdog: 4, soft_reset: 5,
});
export type ShutdownReasonName = keyof typeof SHUTDOWN.values;

export const SchedShutdown = defineStruct('sched_shutdown', 4, [['reason', 0, 'u32']]);

export const SchedPoll = defineStruct('sched_poll', 24, [
  ['ports', 0, 'u64'],
  ['nr_ports', 8, 'u32'],
  ['timeout', 16, 'u64'],
]);

/** i386 layout: the ports handle is 4 bytes and the u64 timeout is only 4-byte aligned. */
export const SchedPoll32 = defineStruct('compat_sched_poll', 16, [
  ['ports', 0, 'u32'],
  ['nr_ports', 4, 'u32'],
  ['timeout', 8, 'u64'],
], { xenName: 'sched_poll' });

export const SchedRemoteShutdown = defineStruct('sched_remote_shutdown', 8, [
  ['domain_id', 0, 'u16'],
  ['reason', 4, 'u32'],
]);

export const SchedWatchdog = defineStruct('sched_watchdog', 8, [
  ['id', 0, 'u32'],
  ['timeout', 4, 'u32'],
]);
/** i386 layout: the same (two u32). */
export const SchedWatchdog32 = defineStruct('compat_sched_watchdog', 8, [
  ['id', 0, 'u32'],
  ['timeout', 4, 'u32'],
], { xenName: 'sched_watchdog' });

// index.ts: the catalogue of every ABI constant group and struct, for the header generator and the
// conformance probe. Code that uses the ABI imports the individual modules directly.
import type { ConstGroup, StringGroup, StructDef } from './layout.ts';
import type { RingDef, RingMacros } from './io/ring.ts';
import type { ErrnoTable } from './io/xs-wire.ts';
import { IO_MODULES } from './io/index.ts';
import { XEN_ERRNO } from './errno.ts';
import { HYPERCALL, HYPERCALL_PAGE, DEBUGCONS, MULTICALL } from './hypercalls.ts';
import { XEN_CPUID, XEN_HVM_CPUID, PVKVM_MSR, PVKVM_XEN_VERSION } from './cpuid.ts';
import { XEN_ELFNOTE, HVM_START, SIF, E820, HvmStartInfo, HvmModlistEntry, HvmMemmapEntry } from './start-info.ts';
import { PVCLOCK, VcpuTimeInfo, VcpuInfo64, VcpuInfo32, SharedInfo64, SharedInfo32 } from './shared-info.ts';
import { SCHEDOP, SHUTDOWN, SchedShutdown, SchedPoll, SchedPoll32, SchedRemoteShutdown, SchedWatchdog, SchedWatchdog32 } from './sched.ts';
import {
  XENMEM, MEMOP, XENMAPSPACE, XenAddToPhysmap, XenAddToPhysmap32, XenRemoveFromPhysmap, XenRemoveFromPhysmap32,
  XenMemoryReservation, XenMemoryReservation32, XenMemoryMap, XenMemoryMap32, XenMemoryDomain, E820Entry,
} from './memory.ts';
import {
  HVMOP, HVM_PARAM, HVM_PARAM_CALLBACK_TYPE, SPECIAL_PFN, XenHvmParam, XenHvmGetTime, XenHvmEvtchnUpcallVector,
  XenHvmEvtchnUpcallVector32,
} from './hvm.ts';
import {
  XENVER, XENVER_LEN, XENFEAT, XenCompileInfo, XenPlatformParameters, XenPlatformParameters32, XenFeatureInfo, XenVarbuf,
} from './version.ts';
import { CONSOLEIO, CONSOLEIO_LIMITS } from './console-io.ts';
import { MulticallEntry, MulticallEntry32, VMASST, DOMID } from './multicall.ts';
import {
  EVTCHNOP, EVTCHNSTAT, VIRQ, EVTCHN_2L, EvtchnAllocUnbound, EvtchnBindInterdomain, EvtchnBindVirq,
  EvtchnBindIpi, EvtchnClose, EvtchnSend, EvtchnUnmask, EvtchnBindVcpu, EvtchnReset, EvtchnStatus,
  EvtchnInitControl, EvtchnExpandArray, EvtchnSetPriority, EvtchnFifoControlBlock, EVTCHN_FIFO,
} from './event-channel.ts';
import {
  VCPUOP, VCPU_SSHOTTMR, RUNSTATE, VCPU_HVM_MODE, VcpuSetSingleshotTimer, VcpuSetSingleshotTimer32,
  VcpuSetPeriodicTimer, VcpuSetPeriodicTimer32, VcpuRegisterVcpuInfo, VcpuRegisterVcpuInfo32, VcpuRunstateInfo, VcpuRunstateInfo32, VcpuHvmContext, VcpuHvmX86_32,
} from './vcpu.ts';
import {
  GNTTABOP, GTF, GNTMAP, GNTCOPY, GNTST, GNTTAB, GNTTAB_LIMITS, GrantEntryV1, GnttabMapGrantRef,
  GnttabUnmapGrantRef, GnttabMapGrantRef32, GnttabUnmapGrantRef32, GnttabSetupTable, GnttabSetupTable32, GnttabCopy, GnttabCopy32, GnttabQuerySize,
  GnttabSetVersion, GnttabGetVersion, GnttabSwapGrantRef,
} from './grant-table.ts';

/**
 * C that is more than constants and structs: ring-entry unions with their ring structs, the ring
 * macros, an errno-name table. abi/gen knows how to emit and check each kind.
 */
export type AbiFragment = RingDef | RingMacros | ErrnoTable;

/** One generated C header per entry: file name (under domU-sdk/include/xen-abi/) → contents. */
export interface AbiModule {
  /** File name, at most one folder deep (`io/blkif.h`). */
  readonly header: string;
  readonly constants: readonly ConstGroup[];
  readonly strings?: readonly StringGroup[];
  /** Structs in the native (64-bit) layout. */
  readonly structs: readonly StructDef[];
  /**
   * 32-bit (compat) layouts of structs whose i386 layout differs from the native one, checked
   * against the headers with -m32. cName is `compat_` + the native cName, xenName Xen's name.
   */
  readonly compatStructs?: readonly StructDef[];
  /** Emitted after the structs, in order. */
  readonly fragments?: readonly AbiFragment[];
}

export const ABI_MODULES: readonly AbiModule[] = [
  { header: 'errno.h', constants: [XEN_ERRNO], structs: [] },
  {
    header: 'hypercall.h', constants: [HYPERCALL, HYPERCALL_PAGE, DEBUGCONS, MULTICALL, DOMID, VMASST],
    structs: [MulticallEntry], compatStructs: [MulticallEntry32],
  },
  { header: 'cpuid.h', constants: [XEN_CPUID, XEN_HVM_CPUID, PVKVM_MSR, PVKVM_XEN_VERSION], structs: [] },
  { header: 'start-info.h', constants: [XEN_ELFNOTE, HVM_START, SIF, E820], structs: [HvmStartInfo, HvmModlistEntry, HvmMemmapEntry] },
  {
    header: 'shared-info.h', constants: [PVCLOCK],
    structs: [VcpuTimeInfo, VcpuInfo64, SharedInfo64], compatStructs: [VcpuInfo32, SharedInfo32],
  },
  {
    header: 'sched.h', constants: [SCHEDOP, SHUTDOWN],
    structs: [SchedShutdown, SchedPoll, SchedRemoteShutdown, SchedWatchdog], compatStructs: [SchedPoll32, SchedWatchdog32],
  },
  {
    header: 'memory.h', constants: [XENMEM, MEMOP, XENMAPSPACE],
    structs: [XenAddToPhysmap, XenRemoveFromPhysmap, XenMemoryReservation, XenMemoryMap, XenMemoryDomain, E820Entry],
    compatStructs: [XenAddToPhysmap32, XenRemoveFromPhysmap32, XenMemoryReservation32, XenMemoryMap32],
  },
  {
    header: 'hvm.h', constants: [HVMOP, HVM_PARAM, HVM_PARAM_CALLBACK_TYPE, SPECIAL_PFN],
    structs: [XenHvmParam, XenHvmGetTime, XenHvmEvtchnUpcallVector], compatStructs: [XenHvmEvtchnUpcallVector32],
  },
  {
    header: 'version.h', constants: [XENVER, XENVER_LEN, XENFEAT],
    structs: [XenCompileInfo, XenPlatformParameters, XenFeatureInfo, XenVarbuf], compatStructs: [XenPlatformParameters32],
  },
  { header: 'console-io.h', constants: [CONSOLEIO, CONSOLEIO_LIMITS], structs: [] },
  {
    header: 'event-channel.h', constants: [EVTCHNOP, EVTCHNSTAT, VIRQ, EVTCHN_2L, EVTCHN_FIFO],
    structs: [EvtchnAllocUnbound, EvtchnBindInterdomain, EvtchnBindVirq, EvtchnBindIpi, EvtchnClose, EvtchnSend,
      EvtchnUnmask, EvtchnBindVcpu, EvtchnReset, EvtchnStatus, EvtchnInitControl, EvtchnExpandArray,
      EvtchnSetPriority, EvtchnFifoControlBlock],
  },
  {
    header: 'vcpu.h', constants: [VCPUOP, VCPU_SSHOTTMR, RUNSTATE, VCPU_HVM_MODE],
    structs: [VcpuSetSingleshotTimer, VcpuSetPeriodicTimer, VcpuRegisterVcpuInfo, VcpuRunstateInfo, VcpuHvmContext, VcpuHvmX86_32],
    compatStructs: [VcpuSetSingleshotTimer32, VcpuRunstateInfo32, VcpuSetPeriodicTimer32, VcpuRegisterVcpuInfo32],
  },
  {
    header: 'grant-table.h', constants: [GNTTABOP, GTF, GNTMAP, GNTCOPY, GNTST, GNTTAB, GNTTAB_LIMITS],
    structs: [GrantEntryV1, GnttabMapGrantRef, GnttabUnmapGrantRef, GnttabSetupTable, GnttabCopy, GnttabQuerySize,
      GnttabSetVersion, GnttabGetVersion, GnttabSwapGrantRef],
    compatStructs: [GnttabSetupTable32, GnttabCopy32, GnttabMapGrantRef32, GnttabUnmapGrantRef32],
  },
  // Device protocols (Xen's io/ headers): ring, blkif, console, xs_wire, xenbus.
  ...IO_MODULES,
];

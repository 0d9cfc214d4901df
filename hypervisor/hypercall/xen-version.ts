// xen-version.ts: hypercall 17, xen_version — every read-only sub-op Xen offers a guest.
import { HC } from '../../abi/hypercalls.ts';
import {
  XENVER, XENVER_LEN, XENFEAT, DOMU_FEATURES_SUBMAP0, XenCompileInfo, XenFeatureInfo, XenPlatformParameters,
  XenPlatformParameters32, XenVarbuf,
} from '../../abi/version.ts';
import { PVKVM_XEN_VERSION } from '../../abi/cpuid.ts';
import { fieldSize, offsetOf } from '../../abi/layout.ts';
import { neg } from '../../abi/errno.ts';
import { fixedString, type HypercallContext } from './context.ts';
import { GuestStruct, byMode } from './guest-struct.ts';
import type { HypercallTable } from './table.ts';
import { PVKVM_VERSION } from '../../abi/pvkvm-version.ts';

const V = XENVER.values;
const L = XENVER_LEN.values;

const EXTRAVERSION = '.0-pvkvm';
const CAPABILITIES = 'hvm-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p';
const CHANGESET = `pvkvm ${PVKVM_VERSION}`;
const COMMANDLINE = 'pvkvm';
const BUILD_ID = new TextEncoder().encode(`pvkvm-${PVKVM_VERSION}`);

/** virt_start is a xen_ulong_t: 4 bytes for 32-bit callers. */
const PLATFORM_PARAMETERS = byMode(XenPlatformParameters, XenPlatformParameters32);

function compileInfo(): Uint8Array {
  const out = new Uint8Array(XenCompileInfo.size);
  const put = (name: keyof typeof XenCompileInfo.byName, text: string): void => {
    out.set(fixedString(text, fieldSize(XenCompileInfo.byName[name])), offsetOf(XenCompileInfo, name));
  };
  put('compiler', `node ${process.versions.node}`);
  put('compile_by', 'pvkvm');
  put('compile_domain', 'pvkvm.local');
  put('compile_date', '2026-11-23');
  return out;
}

/** Variable-length results (commands 10–14): NULL asks the size; else a xen_varbuf and its bytes. */
function varbuf(ctx: HypercallContext, arg: bigint, data: Uint8Array): bigint {
  if (arg === 0n) return BigInt(data.length);
  const len = new GuestStruct(ctx, arg, XenVarbuf).get('len');
  if (len < data.length) return neg('ENOBUFS');
  ctx.guest.write(arg + BigInt(XenVarbuf.size), data);
  return BigInt(data.length);
}

export function xenVersion(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = Number(args[0]! & 0xffffffffn);
  const arg = args[1]!;
  const text = (s: string, size: number): bigint => {
    ctx.guest.write(arg, fixedString(s, size));
    return 0n;
  };
  switch (cmd) {
    case V.version:
      return BigInt((PVKVM_XEN_VERSION.values.MAJOR << 16) | PVKVM_XEN_VERSION.values.MINOR);
    case V.extraversion: return text(EXTRAVERSION, L.extraversion);
    case V.compile_info: ctx.guest.write(arg, compileInfo()); return 0n;
    case V.capabilities: return text(CAPABILITIES, L.capabilities);
    case V.changeset: return text(CHANGESET, L.changeset);
    case V.platform_parameters:
      // virt_start has no meaning for HVM guests: report 0.
      GuestStruct.blank(ctx, arg, PLATFORM_PARAMETERS).writeBack();
      return 0n;
    case V.get_features: {
      const fi = new GuestStruct(ctx, arg, XenFeatureInfo);
      if (fi.get('submap_idx') !== 0) return neg('EINVAL');
      fi.set('submap', DOMU_FEATURES_SUBMAP0 | (ctx.dom.privileged ? 1 << XENFEAT.values.dom0 : 0));
      fi.writeBack();
      return 0n;
    }
    case V.pagesize: return 4096n;
    case V.guest_handle: ctx.guest.write(arg, ctx.dom.uuid.slice(0, L.guest_handle)); return 0n;
    case V.commandline: return text(COMMANDLINE, L.commandline);
    case V.build_id: return varbuf(ctx, arg, BUILD_ID);
    case V.extraversion2: return varbuf(ctx, arg, new TextEncoder().encode(EXTRAVERSION));
    case V.capabilities2: return varbuf(ctx, arg, new TextEncoder().encode(CAPABILITIES));
    case V.changeset2: return varbuf(ctx, arg, new TextEncoder().encode(CHANGESET));
    case V.commandline2: return varbuf(ctx, arg, new TextEncoder().encode(COMMANDLINE));
    default: return neg('ENOSYS');
  }
}

export function registerXenVersion(table: HypercallTable): void {
  table.register(HC.xen_version, 'xen_version', xenVersion);
}

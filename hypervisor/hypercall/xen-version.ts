// xen-version.ts: hypercall 17, xen_version — every read-only sub-op Xen offers a guest.
import { HC } from '../../abi/hypercalls.ts';
import { XENVER, XENVER_LEN, DOMU_FEATURES_SUBMAP0 } from '../../abi/version.ts';
import { PVKVM_XEN_VERSION } from '../../abi/cpuid.ts';
import { neg } from '../../abi/errno.ts';
import { fixedString, type HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';
import { PVKVM_VERSION } from '../../abi/pvkvm-version.ts';

const V = XENVER.values;
const L = XENVER_LEN.values;

const EXTRAVERSION = '.0-pvkvm';
const CAPABILITIES = 'hvm-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p';
const CHANGESET = `pvkvm ${PVKVM_VERSION}`;
const COMMANDLINE = 'pvkvm';
const BUILD_ID = new TextEncoder().encode(`pvkvm-${PVKVM_VERSION}`);

function compileInfo(): Uint8Array {
  const out = new Uint8Array(L.compile_info);
  out.set(fixedString(`node ${process.versions.node}`, 64), 0);
  out.set(fixedString('pvkvm', 16), 64);
  out.set(fixedString('pvkvm.local', 32), 80);
  out.set(fixedString('2026-11-23', 32), 112);
  return out;
}

/** Variable-length results (commands 10–14): NULL asks the size; else `{u32 len; u8 buf[len]}`. */
function varbuf(ctx: HypercallContext, arg: bigint, data: Uint8Array): bigint {
  if (arg === 0n) return BigInt(data.length);
  const len = ctx.guest.readView(arg, 4).getUint32(0, true);
  if (len < data.length) return neg('ENOBUFS');
  ctx.guest.write(arg + 4n, data);
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
    case V.platform_parameters: {
      // virt_start has no meaning for HVM guests; report 0 (the xen_ulong_t width follows the mode).
      ctx.guest.write(arg, new Uint8Array(ctx.mode === 64 ? 8 : 4));
      return 0n;
    }
    case V.get_features: {
      const v = ctx.guest.readView(arg, 8);
      if (v.getUint32(0, true) !== 0) return neg('EINVAL');
      v.setUint32(4, DOMU_FEATURES_SUBMAP0 | (ctx.dom.privileged ? 1 << 11 : 0), true);
      ctx.guest.writeView(arg, v);
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

// console-io.ts: hypercall 18, console_io — guest writes to the hypervisor console (capped).
import { HC } from '../../abi/hypercalls.ts';
import { CONSOLEIO, CONSOLEIO_LIMITS } from '../../abi/console-io.ts';
import { neg } from '../../abi/errno.ts';
import type { HypercallContext } from './context.ts';
import type { HypercallTable } from './table.ts';

const decoder = new TextDecoder('utf-8', { fatal: false });

export function consoleIo(ctx: HypercallContext, args: readonly bigint[]): bigint {
  const cmd = Number(args[0]! & 0xffffffffn);
  // count is an unsigned int in Xen; anything beyond the cap is dropped, not an error.
  const count = Math.min(Number(args[1]! & 0xffffffffn), CONSOLEIO_LIMITS.values.MAX_WRITE);
  switch (cmd) {
    case CONSOLEIO.values.write: {
      if (count === 0) return 0n;
      const bytes = ctx.guest.read(args[2]!, count);
      ctx.dom.console(decoder.decode(bytes));
      return 0n;
    }
    case CONSOLEIO.values.read:
      // No input is queued for the hypervisor console: nothing to read.
      return 0n;
    default:
      return neg('ENOSYS');
  }
}

export function registerConsoleIo(table: HypercallTable): void {
  table.register(HC.console_io, 'console_io', consoleIo);
}

// console-attach.ts: a domain's console on the user's terminal — output to stdout, keystrokes to
// the guest, Ctrl-] to detach (as in xl and virsh).
import type { ControlClient } from './control-client.ts';
import type { DomainEndReport } from '../abi/control.ts';

const DETACH = 0x1d;

/**
 * Write console output to stdout. Register it before the request: its reply and the replayed
 * backlog arrive together.
 */
export function streamOutput(c: ControlClient): void {
  c.on('output', (b) => process.stdout.write(b));
}

/** Stream a domain's console to the terminal until Ctrl-] or the domain ends. */
export async function attachConsole(c: ControlClient): Promise<'detached' | DomainEndReport> {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  try {
    return await new Promise<'detached' | DomainEndReport>((resolvePromise) => {
      const onInput = (d: Buffer): void => {
        const i = d.indexOf(DETACH);
        if (i >= 0) {
          if (i > 0) c.input(d.subarray(0, i));
          resolvePromise('detached');
          return;
        }
        c.input(d);
      };
      stdin.on('data', onInput);
      c.once('end', (e) => resolvePromise(e));
      c.once('close', () => resolvePromise('detached'));
    });
  } finally {
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    stdin.removeAllListeners('data');
  }
}

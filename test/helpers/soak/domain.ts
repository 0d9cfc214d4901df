// domain.ts: a domain created for a soak run on its own toolstack connection, which then carries
// its console (as `pvkvm create -c`): the output as it comes, and how the domain ended.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient, type DomainEndReport } from '../../../cli/control-client.ts';
import type { DomainSettings } from '../../../abi/domain-settings.ts';

/** How a soak domain ended: dom0's report, or why there is none. */
export type SoakEnd =
  | { readonly how: 'ended'; readonly end: DomainEndReport }
  | { readonly how: 'lost'; readonly why: string };

export interface SoakDomain {
  readonly name: string;
  readonly domid: number;
  out(): string;
  /**
   * After the end: everything the guest printed, from dom0's console log (complete: dom0 may drop
   * output for a client that does not keep up, which this process under load can be), which is
   * then removed; the streamed output if there is no log.
   */
  fullOutput(): string;
  /** Resolves with the first match of re in the output, or null if the domain ends or ms pass first. */
  waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray | null>;
  readonly ended: Promise<SoakEnd>;
}

export type SoakSettings = Omit<DomainSettings, 'onPoweroff' | 'onReboot' | 'onCrash' | 'modules' | 'vcpus' | 'memoryMiB'> &
  Partial<Pick<DomainSettings, 'memoryMiB'>>;

/** Create a domain whose console streams to us; `limitMs` (null: none) bounds its life (then dom0 is asked to destroy it). */
export async function createDomain(runDir: string, s: SoakSettings, limitMs: number | null): Promise<SoakDomain> {
  const c = await ControlClient.connect(runDir);
  let out = '';
  const waiters = new Set<() => void>();
  let done = false;
  c.on('output', (b) => { out += b.toString('latin1'); for (const w of waiters) w(); });
  const ended = new Promise<SoakEnd>((resolve) => {
    c.once('end', (end) => resolve({ how: 'ended', end }));
    c.once('close', () => resolve({ how: 'lost', why: 'dom0 closed the console stream before the domain ended' }));
  });
  void ended.then(() => { done = true; c.close(); for (const w of waiters) w(); });
  const settings: DomainSettings = {
    memoryMiB: 32, vcpus: 1, modules: [], onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy', ...s,
  };
  let created: { domid: number };
  try {
    created = await c.request<{ domid: number }>('create', { settings, console: true });
  } catch (e) {
    c.close();
    throw e;
  }
  const limit = limitMs === null ? undefined : setTimeout(() => {
    void ControlClient.connect(runDir).then(async (k) => {
      await k.request('destroy', { domain: String(created.domid) }).catch(() => undefined);
      k.close();
    }, () => undefined);
  }, limitMs);
  void ended.then(() => clearTimeout(limit));
  return {
    name: s.name,
    domid: created.domid,
    ended,
    out: () => out,
    fullOutput() {
      const log = join(runDir, 'logs', `console-${s.name}.log`);
      if (!existsSync(log)) return out;
      const all = readFileSync(log, 'latin1');
      rmSync(log, { force: true });
      return all;
    },
    waitFor(re, ms) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => finish(null), ms);
        const finish = (v: RegExpMatchArray | null): void => { clearTimeout(timer); waiters.delete(check); resolve(v); };
        const check = (): void => {
          const m = re.exec(out);
          if (m) finish(m);
          else if (done) finish(null);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The guest's `Test result: X`, if it printed one. */
export const testResult = (out: string): string | undefined => /Test result: (\w+)/.exec(out)?.[1];

/** An end that is a clean poweroff (SHUTDOWN_poweroff = 0). */
export const poweredOff = (e: SoakEnd): boolean => e.how === 'ended' && e.end.kind === 'shutdown' && e.end.reason === 0;

export function describeEnd(e: SoakEnd): string {
  if (e.how === 'lost') return e.why;
  return e.end.kind === 'shutdown' ? `shutdown reason ${e.end.reason}` : `${e.end.kind}${e.end.detail ? ` (${e.end.detail})` : ''}`;
}

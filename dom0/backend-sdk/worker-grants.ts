// worker-grants.ts: the grant server dom0's main thread runs for one data-path worker — performs
// the maps and unmaps it asks for (the privileged socket lives on this thread), one at a time,
// and remembers every handle it holds so a stop can release them whatever state it was left in.
import { GNTST } from '../../abi/grant-table.ts';
import type { GrantService } from './context.ts';
import type { GrantAnswer, GrantRequest, MapRefOp } from './messages.ts';

const ST = GNTST.values;

export class WorkerGrants {
  /** Grant handles mapped for the worker and not yet unmapped. */
  private readonly live = new Set<number>();
  private inflight: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly grants: GrantService,
    /** Takes a log line about the grant service failing. */
    private readonly log: (line: string) => void,
    /** Delivers an answer to the worker (post it, then wake the worker's wait). */
    private readonly answer: (a: GrantAnswer) => void,
  ) {}

  get held(): number {
    return this.live.size;
  }

  /** One request at a time: the worker waits for each answer before asking again. */
  serve(req: GrantRequest): void {
    this.inflight = this.inflight.then(async () => {
      const a = req.t === 'map' ? await this.map(req.domid, req.ops) : await this.unmap(req.handles);
      // A stopping worker no longer reads answers; its port is about to close.
      if (!this.stopping) this.answer(a);
    });
  }

  /** The worker is being stopped: answer nothing more, and unmap at once what is mapped from now on. */
  stop(): void {
    this.stopping = true;
  }

  /** Once the worker is gone: wait for the request in hand, then unmap every handle it still held. */
  async release(): Promise<void> {
    await this.inflight;
    if (this.live.size === 0) return;
    const handles = [...this.live];
    this.live.clear();
    await this.grants.unmap(handles).catch((err: Error) => this.log(`grant unmap: ${err.message}`));
  }

  private async map(domid: number, ops: readonly MapRefOp[]): Promise<GrantAnswer> {
    try {
      const results = await this.grants.map(ops.map((o) => ({ domid, ref: o.ref, readonly: o.readonly })));
      const ok = results.filter((r) => r.status === 0).map((r) => r.handle);
      // A worker that stopped meanwhile will never release these: do it here.
      if (this.stopping) await this.grants.unmap(ok).catch(() => undefined);
      else for (const h of ok) this.live.add(h);
      return { t: 'mapped', results: results.map((r) => ({ status: r.status, handle: r.handle, offset: r.offset })) };
    } catch (err) {
      this.log(`grant map for domain ${domid}: ${(err as Error).message}`);
      return { t: 'mapped', results: ops.map(() => ({ status: ST.general_error, handle: 0, offset: 0 })) };
    }
  }

  /**
   * Only handles this worker holds reach the hypervisor: it cannot unmap another device's grants.
   * A handle it does not hold is answered GNTST_bad_handle.
   */
  private async unmap(handles: readonly number[]): Promise<GrantAnswer> {
    const mine = handles.filter((h) => this.live.delete(h));
    try {
      const st = mine.length > 0 ? await this.grants.unmap(mine) : [];
      const byHandle = new Map(mine.map((h, i) => [h, st[i] ?? ST.general_error]));
      return { t: 'unmapped', status: handles.map((h) => byHandle.get(h) ?? ST.bad_handle) };
    } catch (err) {
      this.log(`grant unmap: ${(err as Error).message}`);
      return { t: 'unmapped', status: handles.map(() => ST.general_error) };
    }
  }
}

// hypervisor-log.ts: the hypervisor console as `pvkvm dmesg` shows it — every domain's console_io
// and debug-port output, line by line with "(dN) " in front as Xen prints it, in a bounded buffer.

/** How much the log keeps; older lines are dropped first. */
const MAX_BYTES = 128 * 1024;
/** A guest that never writes a newline still gets lines: its text is cut at this length. */
const MAX_LINE = 4096;

export class HypervisorLog {
  private lines: string[] = [];
  private bytes = 0;
  /** A domain's unfinished last line, completed by its next write. */
  private readonly partial = new Map<number, string>();

  /** Add what domain `domid` wrote. */
  append(domid: number, text: string): void {
    const pieces = ((this.partial.get(domid) ?? '') + text).split('\n');
    let rest = pieces.pop()!;
    for (const p of pieces) this.push(`(d${domid}) ${p}`);
    for (; rest.length > MAX_LINE; rest = rest.slice(MAX_LINE)) this.push(`(d${domid}) ${rest.slice(0, MAX_LINE)}`);
    this.partial.set(domid, rest);
  }

  /** The domain is gone: keep its unfinished line as a line of its own. */
  flush(domid: number): void {
    const rest = this.partial.get(domid);
    this.partial.delete(domid);
    if (rest) this.push(`(d${domid}) ${rest}`);
  }

  /** Everything kept, oldest first, one line per entry. */
  text(): string {
    return this.lines.map((l) => `${l}\n`).join('');
  }

  clear(): void {
    this.lines = [];
    this.bytes = 0;
  }

  private push(line: string): void {
    this.lines.push(line);
    this.bytes += line.length + 1;
    while (this.bytes > MAX_BYTES && this.lines.length > 1) this.bytes -= this.lines.shift()!.length + 1;
  }
}

// cpu-list.ts: xl's CPU list syntax (xl.cfg(5) `cpus`, `xl vcpu-pin`) to host CPU numbers —
// "all", "3", "0-3", "node:0", "nodes:0-1", and "^N" to take CPUs out, comma-separated.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Largest host CPU number a list may name (cpu_set_t's 1024 CPUs). */
const MAX_CPU = 1023;

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** Host CPUs of NUMA node `n`, from sysfs (a cpulist such as "0-3,8-11"). */
function nodeCpus(n: number): number[] {
  let text: string;
  try {
    text = readFileSync(`/sys/devices/system/node/node${n}/cpulist`, 'utf8').trim();
  } catch {
    throw new RangeError(`this host has no NUMA node ${n}`);
  }
  return text.split(',').filter((p) => p !== '').flatMap((p) => {
    const [a, b] = p.split('-').map(Number) as [number, number | undefined];
    return range(a, b ?? a);
  });
}

/**
 * Parse one CPU list into sorted host CPU numbers; a RangeError names what is wrong. `strict`: a
 * CPU this host lacks is an error (vcpu-pin); a config file may name CPUs of a bigger host, which
 * Linux's affinity mask simply leaves out.
 */
export function parseCpuList(text: string, opts: { hostCpus?: number; strict?: boolean } = {}): number[] {
  const hostCpus = opts.hostCpus ?? availableParallelism();
  const set = new Set<number>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(\^)?(?:(all)|(nodes?):(\d{1,4})(?:-(\d{1,4}))?|(\d{1,4})(?:-(\d{1,4}))?)$/.exec(part);
    if (m === null) throw new RangeError(`bad CPU list item '${part.slice(0, 20)}' (want e.g. 0-3,^1, all or node:0)`);
    const [, neg, all, node, n1, n2, c1, c2] = m;
    let cpus: number[];
    if (all !== undefined) cpus = range(0, hostCpus - 1);
    else if (node !== undefined) cpus = range(Number(n1), Number(n2 ?? n1)).flatMap(nodeCpus);
    else {
      const [a, b] = [Number(c1), Number(c2 ?? c1)];
      if (b < a) throw new RangeError(`bad CPU range '${part}'`);
      if (b > MAX_CPU) throw new RangeError(`CPU ${b} is beyond ${MAX_CPU}`);
      cpus = range(a, b);
    }
    for (const c of cpus) if (neg !== undefined) set.delete(c); else set.add(c);
  }
  const out = [...set].sort((a, b) => a - b);
  if (out.length === 0) throw new RangeError(`CPU list '${text.slice(0, 40)}' names no CPU`);
  const missing = out.find((c) => c >= hostCpus);
  if (missing !== undefined && opts.strict !== false) throw new RangeError(`CPU ${missing} does not exist on this host (it has ${hostCpus})`);
  return out;
}

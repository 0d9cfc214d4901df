// net.ts: helpers for tests that run `network` guests (domU-sdk/guests/network) through the
// daemons, and for tests that build host networks (bridges, namespaces, veth, VXLAN) around them.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, type TestDaemons } from './daemons.ts';
import { cleanEnv, guestPath, PVKVM, ROOT } from './run-guest.ts';
import type { VifStatus } from '../../abi/control.ts';

/** Write a domain config for a guest (default `network`): name, command line, vif specs. */
export function netConfig(d: TestDaemons, name: string, cmdline: string, vifs: string[] = [''], guest = 'network'): string {
  const lines = [`name = "${name}"`, `kernel = "${guestPath(guest)}"`, 'memory = 32', `cmdline = "${cmdline}"`];
  if (vifs.length) lines.push(`vif = [ ${vifs.map((v) => `'${v}'`).join(', ')} ]`);
  const file = join(d.runDir, `${name}.cfg`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** A domain created with its console attached (`pvkvm create CFG -c`), its output as it comes. */
export interface LiveDomain {
  readonly name: string;
  /** Everything printed so far (console and CLI, stdout). */
  out(): string;
  /** Resolves with the first match of re in the output; rejects after ms or if the CLI ends first. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves when `pvkvm create -c` exits (the domain ended), with everything it printed. */
  readonly ended: Promise<{ code: number | null; stdout: string; stderr: string }>;
  readonly child: ChildProcess;
}

export function startDomain(d: TestDaemons, name: string, cfg: string, killAfterMs = 300_000): LiveDomain {
  const child = spawn(process.execPath, [PVKVM, 'create', cfg, '-c'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...cleanEnv(), PVKVM_RUN_DIR: d.runDir },
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (b: Buffer) => { stdout += b.toString(); for (const w of waiters) w(); });
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const ended = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => {
    clearTimeout(killer);
    for (const w of waiters) w();
    resolve({ code, stdout, stderr });
  }));
  let closed = false;
  void ended.then(() => { closed = true; });
  return {
    name, child, ended,
    out: () => stdout,
    waitFor(re, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`${name}: no ${re} within ${ms} ms; output:\n${stdout}\n${stderr}`)); }, ms);
        const check = (): void => {
          const m = re.exec(stdout);
          if (m) { clearTimeout(timer); waiters.delete(check); resolve(m); return; }
          if (closed || child.exitCode !== null) { clearTimeout(timer); waiters.delete(check); reject(new Error(`${name} ended without ${re}; output:\n${stdout}\n${stderr}`)); }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The guest's `Test result: X`, if it printed one. */
export const result = (out: string): string | undefined => /Test result: (\w+)/.exec(out)?.[1];

/** The key=value pairs of the guest's (last) `net: KIND k=v ...` line, as numbers. */
export function report(out: string, kind: string): Record<string, number> | undefined {
  const line = [...out.matchAll(new RegExp(`^net: ${kind} (\\w+=.*)$`, 'gm'))].pop()?.[1];
  if (line === undefined) return undefined;
  return Object.fromEntries([...line.matchAll(/(\w+)=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
}

/** `pvkvm network-list NAME --json` (empty when the domain is gone). */
export async function vifsOf(d: TestDaemons, name: string): Promise<VifStatus[]> {
  const r = await d.cli(['network-list', name, '--json']);
  return r.code === 0 ? JSON.parse(r.stdout) as VifStatus[] : [];
}

/** Names of the domains the daemons list. */
export async function domainNames(d: TestDaemons): Promise<string[]> {
  const r = await d.cli(['list', '--json']);
  if (r.code !== 0) throw new Error(`pvkvm list failed (${r.code}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { name: string }[]).map((x) => x.name);
}

/** Wait until the domain has left the daemons' list. */
export async function domainGone(d: TestDaemons, name: string, ms = 30_000): Promise<boolean> {
  return (await eventually(async () => ((await domainNames(d)).includes(name) ? undefined : true), ms)) === true;
}

/** Wait until the named domain's vif DEVID is Connected; returns its status. */
export async function vifConnected(d: TestDaemons, name: string, devid = 0, ms = 60_000): Promise<VifStatus | undefined> {
  return eventually(async () => (await vifsOf(d, name)).find((v) => v.devid === devid && v.state === 'Connected'), ms);
}

// ---- the host side ----

/** Run `ip ARGS`; throws one line on failure. */
export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${String(err.stderr || err.message).trim().split('\n')[0]}`);
  }
}

/** Remove a namespace or link, if it is there (never throws). */
export function removeQuietly(kind: 'netns' | 'link', name: string, netns?: string): void {
  try {
    if (kind === 'netns') execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    else execFileSync('ip', [...(netns ? ['-n', netns] : []), 'link', 'del', name], { stdio: 'ignore' });
  } catch { /* already gone */ }
}

/**
 * Why this host cannot build test networks (root, /dev/net/tun, iproute2, namespaces), or null.
 * `extra` names more link types that must be creatable (e.g. 'vxlan').
 */
export function hostNetMissing(extra: string[] = []): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  try { ip('-V'); } catch { return 'no iproute2 (ip)'; }
  const probe = `pvkprobe${process.pid % 100000}`;
  try { ip('netns', 'add', probe); } catch (e) { return `cannot create a network namespace: ${(e as Error).message}`; }
  try {
    for (const kind of extra) {
      const args = kind === 'vxlan' ? ['type', 'vxlan', 'id', '1', 'dstport', '4789', 'local', '127.0.0.1'] : ['type', kind];
      try { ip('-n', probe, 'link', 'add', 'probe0', ...args); } catch (e) { return `cannot create a ${kind} link: ${(e as Error).message}`; }
      removeQuietly('link', 'probe0', probe);
    }
  } finally {
    removeQuietly('netns', probe);
  }
  return null;
}

/** A short id for this test run's host objects (interface names are at most 15 characters). */
export function runId(): string {
  return (process.pid % 100000).toString(36) + Math.floor(Math.random() * 1296).toString(36).padStart(2, '0');
}

/** The ns-udp.mjs helper, run with node inside a namespace. */
export function nsUdp(ns: string, args: (string | number)[], killAfterMs = 120_000): {
  listening: Promise<void>; done: Promise<Record<string, unknown>>;
} {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(ROOT, 'test', 'helpers', 'ns-udp.mjs'), ...args.map(String)], {
    stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv(),
  });
  let out = '';
  let err = '';
  let onListen: () => void = () => undefined;
  const listening = new Promise<void>((r) => { onListen = r; });
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('listening\n')) onListen(); });
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const done = new Promise<Record<string, unknown>>((resolve, reject) => child.on('close', (code) => {
    clearTimeout(killer);
    const last = out.trim().split('\n').pop() ?? '';
    try { resolve(JSON.parse(last) as Record<string, unknown>); } catch { reject(new Error(`ns-udp ${args.join(' ')} exited ${code}: ${out}${err}`)); }
  }));
  void done.catch(() => onListen());
  return { listening, done };
}

// tap.ts: host TAP devices for bridged vifs — open /dev/net/tun as a non-blocking TAP named like
// Xen's (vifDOMID.HANDLE), and put it on a host bridge the way Xen's vif-bridge hotplug script does.
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { libc, check, O_RDWR, O_CLOEXEC, O_NONBLOCK } from './libc.ts';

const run = promisify(execFile);
/** _IOW('T', 202, int) */
const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
/** struct ifreq: char ifr_name[16], then the union (ifr_flags is its first short). */
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

/** Xen's name for the host side of vif DOMID.HANDLE. */
export function tapName(domid: number, handle: number): string {
  return `vif${domid}.${handle}`;
}

/**
 * Create TAP `name` (no packet-info header: each read or write is one Ethernet frame) and return
 * its non-blocking fd. The device lives as long as the fd: closing it removes the interface.
 */
export function openTap(name: string): number {
  const bytes = Buffer.from(name, 'ascii');
  if (bytes.length === 0 || bytes.length >= IFNAMSIZ) throw new RangeError(`bad interface name '${name}'`);
  const fd = check(libc.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC, 0), 'open /dev/net/tun');
  const ifr = new Uint8Array(IFREQ_SIZE);
  ifr.set(bytes, 0);
  new DataView(ifr.buffer).setUint16(IFNAMSIZ, IFF_TAP | IFF_NO_PI, true);
  try {
    check(libc.ioctlPtr(fd, TUNSETIFF, ifr), `TUNSETIFF ${name}`);
  } catch (err) {
    libc.close(fd);
    throw err;
  }
  return fd;
}

/** Put interface `dev` on host bridge `bridge` and bring it up; one-line Error if that fails. */
export async function attachToBridge(dev: string, bridge: string): Promise<void> {
  if (!existsSync(`/sys/class/net/${bridge}/bridge`)) {
    throw new Error(existsSync(`/sys/class/net/${bridge}`) ? `host interface ${bridge} is not a bridge` : `host bridge ${bridge} does not exist`);
  }
  try {
    await run('ip', ['link', 'set', 'dev', dev, 'master', bridge, 'up']);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`cannot add ${dev} to bridge ${bridge}: ${(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
}

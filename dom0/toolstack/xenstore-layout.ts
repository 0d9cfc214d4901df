// xenstore-layout.ts: the xenstore nodes the toolstack creates for a new domain, with libxl's
// permissions (docs/xen-abi.md §12.3): the home directory is dom0's and readable by the guest; the
// directories a guest writes to (device, control, data…) are owned by the guest.
import type { XsLocal, XsPerm } from '../xenstore/xenstored.ts';

export interface DomainNodes {
  readonly domid: number;
  readonly name: string;
  readonly uuid: string;
  /** memory/static-max: what the domain was built with (xl's maxmem). */
  readonly memoryKiB: number;
  /** memory/target: the balloon target it starts with (xl's memory). */
  readonly targetKiB: number;
  /** vCPUs online at boot (xl's vcpus)… */
  readonly vcpus: number;
  /** …of the domain's maxVcpus (xl's maxvcpus): cpu/N/availability for each, online or offline. */
  readonly maxVcpus: number;
  readonly consolePort: number;
  readonly consolePfn: number;
  readonly storePort: number;
  readonly storePfn: number;
}

export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

/** dom0's own home: readable by nobody else (guests get EACCES, as under Xen). */
export function writeDom0Nodes(xs: XsLocal): void {
  xs.write('/local/domain/0/name', 'Domain-0');
  xs.write('/local/domain/0/domid', '0');
  xs.setPerms('/local/domain/0', [{ id: 0, perm: 'n' }]);
  xs.setPerms('/local/domain', [{ id: 0, perm: 'n' }]);
}

export function writeDomainNodes(xs: XsLocal, n: DomainNodes): void {
  const home = domainPath(n.domid);
  const ro: XsPerm[] = [{ id: 0, perm: 'n' }, { id: n.domid, perm: 'r' }];
  const rw: XsPerm[] = [{ id: n.domid, perm: 'n' }];
  xs.transaction((tx) => {
    tx.rm(home);
    tx.mkdir(home);
    tx.setPerms(home, ro);
    const put = (path: string, value: string, perms: XsPerm[] = ro): void => {
      tx.write(`${home}/${path}`, value);
      tx.setPerms(`${home}/${path}`, perms);
    };
    put('name', n.name);
    put('domid', String(n.domid));
    put('vm', `/vm/${n.uuid}`);
    put('cpu', '');
    for (let v = 0; v < n.maxVcpus; v++) put(`cpu/${v}/availability`, v < n.vcpus ? 'online' : 'offline');
    put('memory', '');
    put('memory/static-max', String(n.memoryKiB));
    put('memory/target', String(n.targetKiB));
    put('console', '');
    put('console/port', String(n.consolePort));
    put('console/ring-ref', String(n.consolePfn));
    put('console/type', 'xenconsoled');
    put('console/limit', '1048576');
    put('store', '');
    put('store/port', String(n.storePort));
    put('store/ring-ref', String(n.storePfn));
    // Guest-writable directories, as libxl creates them.
    for (const dir of ['device', 'control', 'data', 'drivers', 'feature', 'attr', 'error']) put(dir, '', rw);
    put('control/shutdown', '', rw);
    put('control/feature-poweroff', '', rw);
    put('control/feature-reboot', '', rw);
    put('control/feature-suspend', '', rw);
    tx.write(`/vm/${n.uuid}/name`, n.name);
    tx.write(`/vm/${n.uuid}/uuid`, n.uuid);
    tx.setPerms(`/vm/${n.uuid}`, ro);
  });
}

export function removeDomainNodes(xs: XsLocal, domid: number, uuid: string): void {
  xs.rm(domainPath(domid));
  xs.rm(`/vm/${uuid}`);
  xs.rm(`/local/domain/0/backend/console/${domid}`);
}

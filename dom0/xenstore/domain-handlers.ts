// domain-handlers.ts: the domain-management and CONTROL message types. All but GET_DOMAIN_PATH
// are for privileged callers only (EACCES for guests), as in xenstored.
import type { Connection } from './connection.ts';
import { XsError } from '../../abi/io/xs-error.ts';
import type { Handler } from './handlers.ts';
import { domainPath } from './path.ts';
import { XS } from '../../abi/io/xs-wire.ts';
import { decimalArg, nulJoin, stringArgs, type XsMsg } from './wire.ts';

const OK = nulJoin(['OK']);
/** domid_t is 16 bits; DOMID_FIRST_RESERVED (0x7FF0) and above are never real domains. */
const DOMID_LIMIT = 0x7fef;

function privileged(c: Connection): void {
  if (!c.caller.privileged) throw new XsError('EACCES', 'privileged operation');
}

function domidArg(s: string | undefined): number {
  return decimalArg(s, DOMID_LIMIT);
}

function introducedDomid(c: Connection, s: string | undefined): number {
  const domid = domidArg(s);
  if (domid === 0 || !c.core.isIntroduced(domid)) throw new XsError('ENOENT', `domain ${domid} not introduced`);
  return domid;
}

/**
 * INTRODUCE domid|gfn|evtchn|. The daemon cannot map a guest page from a wire request: the
 * toolstack attaches rings with Xenstored.introduceDomain(). So this answers OK when the domain is
 * already introduced (a harmless repeat, as xenstored treats one), or when an 'introduce-request'
 * listener introduced it synchronously; otherwise EINVAL.
 */
function introduce(c: Connection, m: XsMsg): Buffer {
  privileged(c);
  const [d, gfn, port] = stringArgs(m.payload, 3);
  const domid = domidArg(d);
  if (domid === 0 || !/^[0-9]{1,20}$/.test(gfn!)) throw new XsError('EINVAL');
  if (!c.core.introduceRequest(domid, BigInt(gfn!), decimalArg(port))) throw new XsError('EINVAL', 'no ring for this domain');
  return OK;
}

/** CONTROL cmd|args…: a small subset of xenstored's debug commands. */
function control(c: Connection, m: XsMsg): Buffer {
  privileged(c);
  const [cmd, ...args] = stringArgs(m.payload, 1);
  switch (cmd) {
    case 'print':
      c.core.log(`xenstored: ${args.join(' ')}`);
      return OK;
    case 'help':
      return Buffer.from('print <text>: log the text\nquota: show per-domain quotas\nhelp: this list\n\0');
    case 'quota': {
      const q = c.core.quota;
      const text = `nodes ${q.nodesPerDomain}\nwatches ${q.watchesPerDomain}\ntransactions ${q.transactionsPerDomain}\nentry-size ${q.maxEntrySize}\n`;
      return Buffer.from(`${text}\0`);
    }
    default:
      throw new XsError('EINVAL', `unknown control command '${cmd}'`);
  }
}

export const DOMAIN_HANDLERS: [number, Handler][] = [
  [XS.CONTROL, control],
  [XS.INTRODUCE, introduce],
  [XS.RELEASE, (c, m) => {
    privileged(c);
    c.core.release(introducedDomid(c, stringArgs(m.payload, 1)[0]));
    return OK;
  }],
  [XS.IS_DOMAIN_INTRODUCED, (c, m) => {
    privileged(c);
    const domid = domidArg(stringArgs(m.payload, 1)[0]);
    return nulJoin([domid === 0 || c.core.isIntroduced(domid) ? 'T' : 'F']);
  }],
  // Any caller may ask (xenstored does not restrict it): the answer is public knowledge.
  [XS.GET_DOMAIN_PATH, (_c, m) => nulJoin([domainPath(domidArg(stringArgs(m.payload, 1)[0]))])],
  [XS.RESUME, (c, m) => {
    privileged(c);
    c.core.resume(introducedDomid(c, stringArgs(m.payload, 1)[0]));
    return OK;
  }],
  [XS.SET_TARGET, (c, m) => {
    privileged(c);
    const [d, t] = stringArgs(m.payload, 2);
    c.core.setTarget(introducedDomid(c, d), domidArg(t));
    return OK;
  }],
];

// backend-context.ts: what dom0 hands its device backends — xenstore, and grant maps, event
// channels and guest memory through the privileged interface (the backend SDK's BackendContext).
import type { HvClient } from './hv-client.ts';
import type { Xenstored } from './xenstore/xenstored.ts';
import type { BackendContext } from './backend-sdk/context.ts';

export function makeBackendContext(hv: HvClient, xs: Xenstored, log: (line: string) => void): BackendContext {
  return {
    store: xs.local,
    grants: {
      async map(ops) {
        const r = await hv.call({ op: 'grant_map', grant_map: { ops } });
        if (r.response.body !== 'grant_map') throw new Error('bad grant_map reply');
        return r.response.grant_map.results;
      },
      async unmap(handles) {
        const r = await hv.call({ op: 'grant_unmap', grant_unmap: { handles } });
        if (r.response.body !== 'grant_unmap') throw new Error('bad grant_unmap reply');
        return r.response.grant_unmap.status;
      },
    },
    channels: {
      async bind(domid, port) {
        const r = await hv.call({ op: 'bind_interdomain', bind_interdomain: { domid, remote_port: port } });
        if (r.response.body !== 'channel' || r.fds.length !== 2) throw new Error('bad bind reply');
        return { channel: r.response.channel.channel, kickFd: r.fds[0]!, notifyFd: r.fds[1]! };
      },
      async unbind(channel) {
        await hv.call({ op: 'unbind', unbind: { channel } });
      },
    },
    async guestMemoryFd(domid) {
      const r = await hv.call({ op: 'map_memory', map_memory: { domid } });
      if (r.fds.length !== 1) throw new Error('bad map_memory reply');
      return r.fds[0]!;
    },
    log,
  };
}

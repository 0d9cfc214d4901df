// worker.ts: the RAM disk's data path — the SDK checks and maps each batch of blkif requests;
// this file only moves bytes between guest pages and the disk's SharedArrayBuffer.
import { runDataPath, resolveBatch, jobResponse, blkifEntrySize, BLKIF_OP, BLKIF_RSP, PAGE_SIZE, type RingProtocol } from '../backend-sdk/worker/index.ts';

export interface RamdiskConfig {
  readonly data: SharedArrayBuffer;
}

runDataPath<RamdiskConfig>((env) => {
  const disk = new Uint8Array(env.config.data);
  const proto = env.protocol as RingProtocol;
  const limits = { sectors: disk.length / 512, readonly: false, maxIndirectSegments: 0, discard: false };
  return {
    entrySize: blkifEntrySize(proto),
    process(batch) {
      const jobs = resolveBatch(batch, proto, limits, env.grants, env.memory);
      for (const j of jobs) {
        if (j.status !== null) continue;
        if (j.op !== BLKIF_OP.READ && j.op !== BLKIF_OP.WRITE && j.op !== BLKIF_OP.FLUSH_DISKCACHE) {
          j.status = BLKIF_RSP.EOPNOTSUPP;
          continue;
        }
        let pos = j.req.sector * 512;
        for (const s of j.spans) {
          // A span never crosses a page: view its page and copy one way or the other.
          const inPage = s.offset % PAGE_SIZE;
          const guest = env.memory.page(s.offset - inPage).subarray(inPage, inPage + s.len);
          if (j.op === BLKIF_OP.READ) guest.set(disk.subarray(pos, pos + s.len));
          else disk.set(guest, pos);
          pos += s.len;
        }
        j.status = BLKIF_RSP.OKAY; // RAM needs no flush
      }
      env.grants.releaseTransient();
      return jobs.map((j) => jobResponse(j, proto));
    },
  };
});

// rx-filter.ts: the DP8390 address recognition — which destination addresses the receiver
// accepts under RCR (physical match, broadcast AB, multicast hash AM, promiscuous PRO).
import { RCR } from './regs.ts';
import { multicastIndex } from './crc.ts';

export function accepts(frame: Uint8Array, rcr: number, par: Uint8Array, mar: Uint8Array): boolean {
  if ((rcr & RCR.PRO) !== 0) return true;
  const group = (frame[0]! & 1) !== 0;
  if (!group) {
    for (let i = 0; i < 6; i++) if (frame[i] !== par[i]) return false;
    return true;
  }
  let broadcast = true;
  for (let i = 0; i < 6; i++) if (frame[i] !== 0xff) broadcast = false;
  if (broadcast) return (rcr & RCR.AB) !== 0;
  // The datasheet: multicast frames are accepted when AM is set and their hash bit is set in MAR.
  if ((rcr & RCR.AM) === 0) return false;
  const idx = multicastIndex(frame);
  return (mar[idx >> 3]! & (1 << (idx & 7))) !== 0;
}

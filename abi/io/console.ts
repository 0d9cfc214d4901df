// console.ts: the PV console ring page, xencons_interface (io/console.h): two byte rings with
// free-running u32 indices masked by ring size - 1, and the newer `connection` flag.
import { defineConstants, defineStruct } from '../layout.ts';

/**
 * `in` carries backend → guest bytes (keyboard input), `out` guest → backend (console output).
 * `connection` (Xen 4.21) is XENCONSOLE_CONNECTED or _DISCONNECTED, written by the backend.
 */
export const XenconsInterface = defineStruct('xencons_interface', 3092, [
  ['in', 0, 'u8', 1024], ['out', 1024, 'u8', 2048],
  ['in_cons', 3072, 'u32'], ['in_prod', 3076, 'u32'], ['out_cons', 3080, 'u32'], ['out_prod', 3084, 'u32'],
  ['connection', 3088, 'u8'],
], { notInXen: ['connection'] });

/** Ring sizes (powers of two), taken from the layout so that the two cannot disagree. */
export const XENCONS = defineConstants('xencons ring sizes', 'XENCONS_', {
  IN_SIZE: XenconsInterface.byName.in.count,
  OUT_SIZE: XenconsInterface.byName.out.count,
}, { inXenHeaders: false });

export const XENCONSOLE = defineConstants('xencons_interface.connection values', 'XENCONSOLE_', {
  CONNECTED: 0, DISCONNECTED: 1,
}, { notInXen: ['CONNECTED', 'DISCONNECTED'] });

// layout.ts: byte layout of xencons_interface (io/console.h), the PV console ring page.
//
// Offsets are Xen's (xen-abi-facts §11, checked against /usr/include/xen/io/console.h): two byte
// rings and four free-running u32 indices. `connection` is newer than Debian's 4.17 header.

export const XENCONS = {
  /** Backend → guest bytes (keyboard input). */
  IN_OFFSET: 0,
  IN_SIZE: 1024,
  /** Guest → backend bytes (console output). */
  OUT_OFFSET: 1024,
  OUT_SIZE: 2048,
  IN_CONS: 3072,
  IN_PROD: 3076,
  OUT_CONS: 3080,
  OUT_PROD: 3084,
  /** u8: 0 = connected, 1 = disconnected (newer headers only; pvkvm leaves it alone). */
  CONNECTION: 3088,
  /** sizeof(struct xencons_interface) with the connection byte and tail padding. */
  STRUCT_SIZE: 3092,
} as const;

/** Masks for the free-running indices: both ring sizes are powers of two. */
export const IN_MASK = XENCONS.IN_SIZE - 1;
export const OUT_MASK = XENCONS.OUT_SIZE - 1;

// console-io.ts: console_io commands (xen.h) and pvkvm's cap on one write.
import { defineConstants } from './layout.ts';

export const CONSOLEIO = defineConstants('console_io commands', 'CONSOLEIO_', {
  write: 0, read: 1,
});

export const CONSOLEIO_LIMITS = defineConstants('console_io limits', 'PVKVM_CONSOLEIO_', {
  /** Longest write taken in one call; the rest is ignored (Xen also chunks and caps). */
  MAX_WRITE: 4096,
}, { inXenHeaders: false });

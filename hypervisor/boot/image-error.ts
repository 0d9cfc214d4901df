// image-error.ts: the one error type the boot path throws for a bad kernel image or boot layout.
//
// Callers (CLI, toolstack) switch on `code`, which is stable; `message` is one human line that
// starts with the image's name, e.g. "guest.elf: truncated program header table".
import { PvkvmError } from '../../host/errors.ts';

export type ImageErrorCode =
  /** Not an ELF file at all (short, or wrong magic). */
  | 'NOT_ELF'
  /** ELF, but a class, byte order, type or machine we do not load. */
  | 'UNSUPPORTED'
  /** A header, table or segment points past the end of the file. */
  | 'TRUNCATED'
  /** A header field is inconsistent (entry sizes, filesz > memsz, overlapping segments…). */
  | 'MALFORMED'
  /** A note record is malformed (bad sizes, overruns its segment or section). */
  | 'BAD_NOTE'
  /** No XEN_ELFNOTE_PHYS32_ENTRY: the kernel does not support PVH boot. */
  | 'NOT_PVH'
  /** A segment or the entry point does not lie inside guest RAM (or hits a reserved region). */
  | 'OUT_OF_RAM'
  /** The boot data (start info, cmdline, modules, memmap) does not fit in guest RAM. */
  | 'NO_MEMORY'
  /** A command line is too long or contains a NUL byte. */
  | 'BAD_CMDLINE';

export class ImageError extends PvkvmError {
  override readonly name = 'ImageError';

  constructor(
    readonly code: ImageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/* Generated from abi/index.ts (ABI_MODULES "console-io.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_CONSOLE_IO_H
#define PVKVM_XEN_ABI_CONSOLE_IO_H

#include <stdint.h>

/* console_io commands */
#define CONSOLEIO_write 0
#define CONSOLEIO_read  1

/* console_io limits */
#define PVKVM_CONSOLEIO_MAX_WRITE 0x1000

#endif /* PVKVM_XEN_ABI_CONSOLE_IO_H */

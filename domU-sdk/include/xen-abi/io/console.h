/* Generated from abi/index.ts (ABI_MODULES "io/console.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_IO_CONSOLE_H
#define PVKVM_XEN_ABI_IO_CONSOLE_H

#include <stdint.h>

/* xencons ring sizes */
#define XENCONS_IN_SIZE  0x400
#define XENCONS_OUT_SIZE 0x800

/* xencons_interface.connection values */
#define XENCONSOLE_CONNECTED    0
#define XENCONSOLE_DISCONNECTED 1

/* xencons_interface: 3092 bytes (Xen: struct xencons_interface). */
struct xencons_interface {
    uint8_t in[1024];
    uint8_t out[2048];
    uint32_t in_cons;
    uint32_t in_prod;
    uint32_t out_cons;
    uint32_t out_prod;
    uint8_t connection;
    uint8_t _pad0[3];
};
_Static_assert(sizeof(struct xencons_interface) == 3092, "xencons_interface: size");
_Static_assert(__builtin_offsetof(struct xencons_interface, in) == 0, "xencons_interface: offset of in");
_Static_assert(__builtin_offsetof(struct xencons_interface, out) == 1024, "xencons_interface: offset of out");
_Static_assert(__builtin_offsetof(struct xencons_interface, in_cons) == 3072, "xencons_interface: offset of in_cons");
_Static_assert(__builtin_offsetof(struct xencons_interface, in_prod) == 3076, "xencons_interface: offset of in_prod");
_Static_assert(__builtin_offsetof(struct xencons_interface, out_cons) == 3080, "xencons_interface: offset of out_cons");
_Static_assert(__builtin_offsetof(struct xencons_interface, out_prod) == 3084, "xencons_interface: offset of out_prod");
_Static_assert(__builtin_offsetof(struct xencons_interface, connection) == 3088, "xencons_interface: offset of connection");

#endif /* PVKVM_XEN_ABI_IO_CONSOLE_H */

/* Generated from abi/index.ts (ABI_MODULES "io/xenbus.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_IO_XENBUS_H
#define PVKVM_XEN_ABI_IO_XENBUS_H

#include <stdint.h>

/* XenbusState values */
enum xenbus_state {
    XenbusStateUnknown       = 0,
    XenbusStateInitialising  = 1,
    XenbusStateInitWait      = 2,
    XenbusStateInitialised   = 3,
    XenbusStateConnected     = 4,
    XenbusStateClosing       = 5,
    XenbusStateClosed        = 6,
    XenbusStateReconfiguring = 7,
    XenbusStateReconfigured  = 8,
};

#endif /* PVKVM_XEN_ABI_IO_XENBUS_H */

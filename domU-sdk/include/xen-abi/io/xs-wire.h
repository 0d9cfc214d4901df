/* Generated from abi/index.ts (ABI_MODULES "io/xs-wire.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_IO_XS_WIRE_H
#define PVKVM_XEN_ABI_IO_XS_WIRE_H

#include <stdint.h>
#include "../errno.h"

/* xenstore message types (xsd_sockmsg.type) */
enum xsd_sockmsg_type {
    XS_CONTROL              = 0,
    XS_DIRECTORY            = 1,
    XS_READ                 = 2,
    XS_GET_PERMS            = 3,
    XS_WATCH                = 4,
    XS_UNWATCH              = 5,
    XS_TRANSACTION_START    = 6,
    XS_TRANSACTION_END      = 7,
    XS_INTRODUCE            = 8,
    XS_RELEASE              = 9,
    XS_GET_DOMAIN_PATH      = 10,
    XS_WRITE                = 11,
    XS_MKDIR                = 12,
    XS_RM                   = 13,
    XS_SET_PERMS            = 14,
    XS_WATCH_EVENT          = 15,
    XS_ERROR                = 16,
    XS_IS_DOMAIN_INTRODUCED = 17,
    XS_RESUME               = 18,
    XS_SET_TARGET           = 19,
    XS_RESET_WATCHES        = 21,
    XS_DIRECTORY_PART       = 22,
    XS_GET_FEATURE          = 23,
    XS_SET_FEATURE          = 24,
    XS_GET_QUOTA            = 25,
    XS_SET_QUOTA            = 26,
    XS_INVALID              = 0xffff,
};

/* Watch event payload fields */
enum xs_watch_type {
    XS_WATCH_PATH  = 0,
    XS_WATCH_TOKEN = 1,
};

/* xenstore limits and ring page values */
#define XENSTORE_RING_SIZE                   0x400
#define XENSTORE_PAYLOAD_MAX                 0x1000
#define XENSTORE_ABS_PATH_MAX                0xc00
#define XENSTORE_REL_PATH_MAX                0x800
#define XENSTORE_SERVER_FEATURE_RECONNECTION 1
#define XENSTORE_SERVER_FEATURE_ERROR        2
#define XENSTORE_SERVER_FEATURE_WATCHDEPTH   4
#define XENSTORE_CONNECTED                   0
#define XENSTORE_RECONNECT                   1
#define XENSTORE_ERROR_NONE                  0
#define XENSTORE_ERROR_COMM                  1
#define XENSTORE_ERROR_RINGIDX               2
#define XENSTORE_ERROR_PROTO                 3

/* Write modes (old protocol) */
#define XS_WRITE_NONE        "NONE"
#define XS_WRITE_CREATE      "CREATE"
#define XS_WRITE_CREATE_EXCL "CREATE|EXCL"

/* xsd_sockmsg: 16 bytes (Xen: struct xsd_sockmsg). */
struct xsd_sockmsg {
    uint32_t type;
    uint32_t req_id;
    uint32_t tx_id;
    uint32_t len;
};
_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg: size");
_Static_assert(__builtin_offsetof(struct xsd_sockmsg, type) == 0, "xsd_sockmsg: offset of type");
_Static_assert(__builtin_offsetof(struct xsd_sockmsg, req_id) == 4, "xsd_sockmsg: offset of req_id");
_Static_assert(__builtin_offsetof(struct xsd_sockmsg, tx_id) == 8, "xsd_sockmsg: offset of tx_id");
_Static_assert(__builtin_offsetof(struct xsd_sockmsg, len) == 12, "xsd_sockmsg: offset of len");

/* xenstore_domain_interface: 2080 bytes (Xen: struct xenstore_domain_interface). */
struct xenstore_domain_interface {
    uint8_t req[1024];
    uint8_t rsp[1024];
    uint32_t req_cons;
    uint32_t req_prod;
    uint32_t rsp_cons;
    uint32_t rsp_prod;
    uint32_t server_features;
    uint32_t connection;
    uint32_t error;
    uint32_t evtchn_port;
};
_Static_assert(sizeof(struct xenstore_domain_interface) == 2080, "xenstore_domain_interface: size");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, req) == 0, "xenstore_domain_interface: offset of req");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, rsp) == 1024, "xenstore_domain_interface: offset of rsp");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, req_cons) == 2048, "xenstore_domain_interface: offset of req_cons");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, req_prod) == 2052, "xenstore_domain_interface: offset of req_prod");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, rsp_cons) == 2056, "xenstore_domain_interface: offset of rsp_cons");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, rsp_prod) == 2060, "xenstore_domain_interface: offset of rsp_prod");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, server_features) == 2064, "xenstore_domain_interface: offset of server_features");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, connection) == 2068, "xenstore_domain_interface: offset of connection");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, error) == 2072, "xenstore_domain_interface: offset of error");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, evtchn_port) == 2076, "xenstore_domain_interface: offset of evtchn_port");

/* xsd_errors: the error names of ERROR replies, in Xen's order, each with its Xen errno. */
struct xsd_errors {
    int errnum;
    const char *errstring;
};
static const struct xsd_errors xsd_errors[] __attribute__((unused)) = {
    { XEN_EINVAL, "EINVAL" },
    { XEN_EACCES, "EACCES" },
    { XEN_EEXIST, "EEXIST" },
    { XEN_EISDIR, "EISDIR" },
    { XEN_ENOENT, "ENOENT" },
    { XEN_ENOMEM, "ENOMEM" },
    { XEN_ENOSPC, "ENOSPC" },
    { XEN_EIO, "EIO" },
    { XEN_ENOTEMPTY, "ENOTEMPTY" },
    { XEN_ENOSYS, "ENOSYS" },
    { XEN_EROFS, "EROFS" },
    { XEN_EBUSY, "EBUSY" },
    { XEN_EAGAIN, "EAGAIN" },
    { XEN_EISCONN, "EISCONN" },
    { XEN_E2BIG, "E2BIG" },
    { XEN_EPERM, "EPERM" },
};

#endif /* PVKVM_XEN_ABI_IO_XS_WIRE_H */

/* Generated from abi/index.ts (ABI_MODULES "io/blkif.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_IO_BLKIF_H
#define PVKVM_XEN_ABI_IO_BLKIF_H

#include <stdint.h>
#include "ring.h"

/* blkif operations */
#define BLKIF_OP_READ            0
#define BLKIF_OP_WRITE           1
#define BLKIF_OP_WRITE_BARRIER   2
#define BLKIF_OP_FLUSH_DISKCACHE 3
#define BLKIF_OP_RESERVED_1      4
#define BLKIF_OP_DISCARD         5
#define BLKIF_OP_INDIRECT        6

/* blkif request limits */
#define BLKIF_MAX_SEGMENTS_PER_REQUEST       11
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8

/* blkif response status */
#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR      (-1)
#define BLKIF_RSP_OKAY       0

/* blkif_request_discard.flag bits */
#define BLKIF_DISCARD_SECURE 1

/* Virtual disk info flags */
#define VDISK_CDROM     1
#define VDISK_REMOVABLE 2
#define VDISK_READONLY  4

/* pvkvm blkif units */
#define BLKIF_SECTOR_SIZE             0x200
#define BLKIF_SEGS_PER_INDIRECT_FRAME 0x200

/* blkif_request_segment: 8 bytes (Xen: struct blkif_request_segment). */
struct blkif_request_segment {
    uint32_t gref;
    uint8_t first_sect;
    uint8_t last_sect;
    uint16_t _pad;
};
_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif_request_segment: size");
_Static_assert(__builtin_offsetof(struct blkif_request_segment, gref) == 0, "blkif_request_segment: offset of gref");
_Static_assert(__builtin_offsetof(struct blkif_request_segment, first_sect) == 4, "blkif_request_segment: offset of first_sect");
_Static_assert(__builtin_offsetof(struct blkif_request_segment, last_sect) == 5, "blkif_request_segment: offset of last_sect");
_Static_assert(__builtin_offsetof(struct blkif_request_segment, _pad) == 6, "blkif_request_segment: offset of _pad");

/* blkif_request: 112 bytes (Xen: struct blkif_request). */
struct blkif_request {
    uint8_t operation;
    uint8_t nr_segments;
    uint16_t handle;
    uint8_t _pad0[4];
    uint64_t id;
    uint64_t sector_number;
    struct blkif_request_segment seg[11];
};
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request: size");
_Static_assert(__builtin_offsetof(struct blkif_request, operation) == 0, "blkif_request: offset of operation");
_Static_assert(__builtin_offsetof(struct blkif_request, nr_segments) == 1, "blkif_request: offset of nr_segments");
_Static_assert(__builtin_offsetof(struct blkif_request, handle) == 2, "blkif_request: offset of handle");
_Static_assert(__builtin_offsetof(struct blkif_request, id) == 8, "blkif_request: offset of id");
_Static_assert(__builtin_offsetof(struct blkif_request, sector_number) == 16, "blkif_request: offset of sector_number");
_Static_assert(__builtin_offsetof(struct blkif_request, seg) == 24, "blkif_request: offset of seg");

/* blkif_request_discard: 32 bytes (Xen: struct blkif_request_discard). */
struct blkif_request_discard {
    uint8_t operation;
    uint8_t flag;
    uint16_t handle;
    uint8_t _pad0[4];
    uint64_t id;
    uint64_t sector_number;
    uint64_t nr_sectors;
};
_Static_assert(sizeof(struct blkif_request_discard) == 32, "blkif_request_discard: size");
_Static_assert(__builtin_offsetof(struct blkif_request_discard, operation) == 0, "blkif_request_discard: offset of operation");
_Static_assert(__builtin_offsetof(struct blkif_request_discard, flag) == 1, "blkif_request_discard: offset of flag");
_Static_assert(__builtin_offsetof(struct blkif_request_discard, handle) == 2, "blkif_request_discard: offset of handle");
_Static_assert(__builtin_offsetof(struct blkif_request_discard, id) == 8, "blkif_request_discard: offset of id");
_Static_assert(__builtin_offsetof(struct blkif_request_discard, sector_number) == 16, "blkif_request_discard: offset of sector_number");
_Static_assert(__builtin_offsetof(struct blkif_request_discard, nr_sectors) == 24, "blkif_request_discard: offset of nr_sectors");

/* blkif_request_indirect: 64 bytes (Xen: struct blkif_request_indirect). */
struct blkif_request_indirect {
    uint8_t operation;
    uint8_t indirect_op;
    uint16_t nr_segments;
    uint8_t _pad0[4];
    uint64_t id;
    uint64_t sector_number;
    uint16_t handle;
    uint8_t _pad1[2];
    uint32_t indirect_grefs[8];
    uint8_t _pad2[4];
};
_Static_assert(sizeof(struct blkif_request_indirect) == 64, "blkif_request_indirect: size");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, operation) == 0, "blkif_request_indirect: offset of operation");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, indirect_op) == 1, "blkif_request_indirect: offset of indirect_op");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, nr_segments) == 2, "blkif_request_indirect: offset of nr_segments");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, id) == 8, "blkif_request_indirect: offset of id");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, sector_number) == 16, "blkif_request_indirect: offset of sector_number");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, handle) == 24, "blkif_request_indirect: offset of handle");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "blkif_request_indirect: offset of indirect_grefs");

/* blkif_response: 16 bytes (Xen: struct blkif_response). */
struct blkif_response {
    uint64_t id;
    uint8_t operation;
    uint8_t _pad0[1];
    int16_t status;
    uint8_t _pad1[4];
};
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response: size");
_Static_assert(__builtin_offsetof(struct blkif_response, id) == 0, "blkif_response: offset of id");
_Static_assert(__builtin_offsetof(struct blkif_response, operation) == 8, "blkif_response: offset of operation");
_Static_assert(__builtin_offsetof(struct blkif_response, status) == 10, "blkif_response: offset of status");

/* blkif_x86_32_request: 108 bytes (Xen: struct blkif_request, i386 layout). */
struct blkif_x86_32_request {
    uint8_t operation;
    uint8_t nr_segments;
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number;
    struct blkif_request_segment seg[11];
} __attribute__((packed));
_Static_assert(sizeof(struct blkif_x86_32_request) == 108, "blkif_x86_32_request: size");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request, operation) == 0, "blkif_x86_32_request: offset of operation");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request, nr_segments) == 1, "blkif_x86_32_request: offset of nr_segments");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request, handle) == 2, "blkif_x86_32_request: offset of handle");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request, id) == 4, "blkif_x86_32_request: offset of id");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request, sector_number) == 12, "blkif_x86_32_request: offset of sector_number");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request, seg) == 20, "blkif_x86_32_request: offset of seg");

/* blkif_x86_32_request_discard: 28 bytes (Xen: struct blkif_request_discard, i386 layout). */
struct blkif_x86_32_request_discard {
    uint8_t operation;
    uint8_t flag;
    uint16_t handle;
    uint64_t id;
    uint64_t sector_number;
    uint64_t nr_sectors;
} __attribute__((packed));
_Static_assert(sizeof(struct blkif_x86_32_request_discard) == 28, "blkif_x86_32_request_discard: size");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_discard, operation) == 0, "blkif_x86_32_request_discard: offset of operation");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_discard, flag) == 1, "blkif_x86_32_request_discard: offset of flag");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_discard, handle) == 2, "blkif_x86_32_request_discard: offset of handle");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_discard, id) == 4, "blkif_x86_32_request_discard: offset of id");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_discard, sector_number) == 12, "blkif_x86_32_request_discard: offset of sector_number");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_discard, nr_sectors) == 20, "blkif_x86_32_request_discard: offset of nr_sectors");

/* blkif_x86_32_request_indirect: 64 bytes (Xen: struct blkif_request_indirect, i386 layout). */
struct blkif_x86_32_request_indirect {
    uint8_t operation;
    uint8_t indirect_op;
    uint16_t nr_segments;
    uint64_t id;
    uint64_t sector_number;
    uint16_t handle;
    uint8_t _pad0[2];
    uint32_t indirect_grefs[8];
    uint64_t pad;
} __attribute__((packed));
_Static_assert(sizeof(struct blkif_x86_32_request_indirect) == 64, "blkif_x86_32_request_indirect: size");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_indirect, operation) == 0, "blkif_x86_32_request_indirect: offset of operation");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_indirect, indirect_op) == 1, "blkif_x86_32_request_indirect: offset of indirect_op");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_indirect, nr_segments) == 2, "blkif_x86_32_request_indirect: offset of nr_segments");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_indirect, id) == 4, "blkif_x86_32_request_indirect: offset of id");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_indirect, sector_number) == 12, "blkif_x86_32_request_indirect: offset of sector_number");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_indirect, handle) == 20, "blkif_x86_32_request_indirect: offset of handle");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_indirect, indirect_grefs) == 24, "blkif_x86_32_request_indirect: offset of indirect_grefs");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_request_indirect, pad) == 56, "blkif_x86_32_request_indirect: offset of pad");

/* blkif_x86_32_response: 12 bytes (Xen: struct blkif_response, i386 layout). */
struct blkif_x86_32_response {
    uint64_t id;
    uint8_t operation;
    uint8_t _pad0[1];
    int16_t status;
} __attribute__((packed));
_Static_assert(sizeof(struct blkif_x86_32_response) == 12, "blkif_x86_32_response: size");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_response, id) == 0, "blkif_x86_32_response: offset of id");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_response, operation) == 8, "blkif_x86_32_response: offset of operation");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_response, status) == 10, "blkif_x86_32_response: offset of status");

/* blkif ring, x86_64 ABI: 112-byte entries (Xen: DEFINE_RING_TYPES(blkif, …)). */
union blkif_sring_entry {
    struct blkif_request req;
    struct blkif_request_discard discard;
    struct blkif_request_indirect indirect;
    struct blkif_response rsp;
};
DEFINE_RING_STRUCTS(blkif);
_Static_assert(sizeof(union blkif_sring_entry) == 112, "blkif ring: entry size");
_Static_assert(__builtin_offsetof(struct blkif_sring, ring) == 64, "blkif ring: entries follow the header");
_Static_assert(XEN_CONST_RING_SIZE(blkif, 4096) == 32, "blkif ring: entries in one page");

/* blkif_x86_32 ring, x86_32 ABI: 108-byte entries (Xen: DEFINE_RING_TYPES(blkif, …), i386 layout). */
union blkif_x86_32_sring_entry {
    struct blkif_x86_32_request req;
    struct blkif_x86_32_request_discard discard;
    struct blkif_x86_32_request_indirect indirect;
    struct blkif_x86_32_response rsp;
};
DEFINE_RING_STRUCTS(blkif_x86_32);
_Static_assert(sizeof(union blkif_x86_32_sring_entry) == 108, "blkif_x86_32 ring: entry size");
_Static_assert(__builtin_offsetof(struct blkif_x86_32_sring, ring) == 64, "blkif_x86_32 ring: entries follow the header");
_Static_assert(XEN_CONST_RING_SIZE(blkif_x86_32, 4096) == 32, "blkif_x86_32 ring: entries in one page");

#endif /* PVKVM_XEN_ABI_IO_BLKIF_H */

/* Generated from abi/index.ts (ABI_MODULES "io/ring.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_IO_RING_H
#define PVKVM_XEN_ABI_IO_RING_H

#include <stdint.h>

/* Ring ABI names (the frontend's "protocol" key) */
#define XEN_IO_PROTO_ABI_X86_32 "x86_32-abi"
#define XEN_IO_PROTO_ABI_X86_64 "x86_64-abi"

/*
 * Shared rings, with the semantics of Xen's io/ring.h (same macro names; pvkvm's own code on
 * GCC atomics). A ring is 2^order pages: a header of free-running u32 indices, then a power-of-two
 * array of entries, each a union of the request and response layouts. Request i and response i
 * share slot i & (RING_SIZE - 1): the front end may only produce a request once the response
 * that last used the slot has been consumed. Each side keeps its producer index private until
 * it pushes, and asks for an event by writing the index it wants to hear about into req_event
 * (back end) or rsp_event (front end). The peer is untrusted: a consumer copies each entry
 * before looking at it and checks producer indices with the *_OVERFLOW macros.
 */
typedef uint32_t RING_IDX;

/* Indices the peer changes concurrently: acquire orders entry reads after a producer index,
 * release makes entries visible before the producer index that publishes them. */
#define XEN_RING_ACQUIRE(idx) __atomic_load_n(&(idx), __ATOMIC_ACQUIRE)
#define XEN_RING_RELEASE(idx, v) __atomic_store_n(&(idx), (v), __ATOMIC_RELEASE)
#define XEN_RING_FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#define XEN_RING_POW2_FLOOR(n) (     \
    (n) >= (1u << 31) ? (1u << 31) : \
    (n) >= (1u << 30) ? (1u << 30) : \
    (n) >= (1u << 29) ? (1u << 29) : \
    (n) >= (1u << 28) ? (1u << 28) : \
    (n) >= (1u << 27) ? (1u << 27) : \
    (n) >= (1u << 26) ? (1u << 26) : \
    (n) >= (1u << 25) ? (1u << 25) : \
    (n) >= (1u << 24) ? (1u << 24) : \
    (n) >= (1u << 23) ? (1u << 23) : \
    (n) >= (1u << 22) ? (1u << 22) : \
    (n) >= (1u << 21) ? (1u << 21) : \
    (n) >= (1u << 20) ? (1u << 20) : \
    (n) >= (1u << 19) ? (1u << 19) : \
    (n) >= (1u << 18) ? (1u << 18) : \
    (n) >= (1u << 17) ? (1u << 17) : \
    (n) >= (1u << 16) ? (1u << 16) : \
    (n) >= (1u << 15) ? (1u << 15) : \
    (n) >= (1u << 14) ? (1u << 14) : \
    (n) >= (1u << 13) ? (1u << 13) : \
    (n) >= (1u << 12) ? (1u << 12) : \
    (n) >= (1u << 11) ? (1u << 11) : \
    (n) >= (1u << 10) ? (1u << 10) : \
    (n) >= (1u << 9) ? (1u << 9) :   \
    (n) >= (1u << 8) ? (1u << 8) :   \
    (n) >= (1u << 7) ? (1u << 7) :   \
    (n) >= (1u << 6) ? (1u << 6) :   \
    (n) >= (1u << 5) ? (1u << 5) :   \
    (n) >= (1u << 4) ? (1u << 4) :   \
    (n) >= (1u << 3) ? (1u << 3) :   \
    (n) >= (1u << 2) ? (1u << 2) :   \
    (n) >= (1u << 1) ? (1u << 1) :   \
    (n) >= 1u ? 1u : 0u)

/* Entries of a NAME ring of `bytes` bytes: a constant expression, e.g. for array sizes. */
#define XEN_CONST_RING_SIZE(name, bytes)                                            \
    XEN_RING_POW2_FLOOR(((bytes) - __builtin_offsetof(struct name##_sring, ring)) / \
                        sizeof(union name##_sring_entry))

/* The same for the ring at `s`, of `bytes` bytes. */
#define XEN_RING_ENTRIES(s, bytes)                                                                     \
    XEN_RING_POW2_FLOOR(((bytes) - __builtin_offsetof(__typeof__(*(s)), ring)) / sizeof((s)->ring[0]))

/* Does a push from `old` to `new` pass the peer's event index `event` (old < event <= new)? */
#define XEN_RING_NEEDS_NOTIFY(new, old, event) ((RING_IDX)((new) - (event)) < (RING_IDX)((new) - (old)))

/*
 * The shared page (struct NAME_sring: 4 indices, 48 bytes of padding, the entries) and
 * each end's private view, around an already declared union NAME_sring_entry whose members
 * include `req` and `rsp`.
 */
#define DEFINE_RING_STRUCTS(name)                               \
struct name##_sring {                                           \
    RING_IDX req_prod;                                          \
    RING_IDX req_event;                                         \
    RING_IDX rsp_prod;                                          \
    RING_IDX rsp_event;                                         \
    uint8_t _pad[48];                                           \
    union name##_sring_entry ring[];                            \
};                                                              \
struct name##_front_ring {                                      \
    RING_IDX req_prod_pvt; /* the next request slot to fill */  \
    RING_IDX rsp_cons;     /* the next response to read */      \
    unsigned int nr_ents;                                       \
    struct name##_sring *sring;                                 \
};                                                              \
struct name##_back_ring {                                       \
    RING_IDX rsp_prod_pvt; /* the next response slot to fill */ \
    RING_IDX req_cons;     /* the next request to read */       \
    unsigned int nr_ents;                                       \
    struct name##_sring *sring;                                 \
};                                                              \
typedef struct name##_sring name##_sring_t;                     \
typedef struct name##_front_ring name##_front_ring_t;           \
typedef struct name##_back_ring name##_back_ring_t

/* As Xen's: a ring whose entry is the union of one request and one response type. */
#define DEFINE_RING_TYPES(name, req_t, rsp_t) \
union name##_sring_entry {                    \
    req_t req;                                \
    rsp_t rsp;                                \
};                                            \
DEFINE_RING_STRUCTS(name)

/* A fresh shared ring (the front end sets it up): nothing produced; each side wants an event
 * for the first entry of the other. */
#define SHARED_RING_INIT(s) do {                                                  \
    __builtin_memset((void *)(s), 0, __builtin_offsetof(__typeof__(*(s)), ring)); \
    (s)->req_event = 1;                                                           \
    (s)->rsp_event = 1;                                                           \
} while (0)

/* Private views of a ring of `bytes` bytes; *_ATTACH resumes at index `i` (e.g. after a reconnect). */
#define FRONT_RING_ATTACH(r, s, i, bytes) do {     \
    (r)->req_prod_pvt = (i);                       \
    (r)->rsp_cons = (i);                           \
    (r)->nr_ents = XEN_RING_ENTRIES((s), (bytes)); \
    (r)->sring = (s);                              \
} while (0)
#define FRONT_RING_INIT(r, s, bytes) FRONT_RING_ATTACH(r, s, 0, bytes)
#define BACK_RING_ATTACH(r, s, i, bytes) do {      \
    (r)->rsp_prod_pvt = (i);                       \
    (r)->req_cons = (i);                           \
    (r)->nr_ents = XEN_RING_ENTRIES((s), (bytes)); \
    (r)->sring = (s);                              \
} while (0)
#define BACK_RING_INIT(r, s, bytes) BACK_RING_ATTACH(r, s, 0, bytes)

#define RING_SIZE(r) ((r)->nr_ents)
/* Front end: slots free for new requests (every request in flight holds one). */
#define RING_FREE_REQUESTS(r) (RING_SIZE(r) - ((r)->req_prod_pvt - (r)->rsp_cons))
#define RING_FULL(r) (RING_FREE_REQUESTS(r) == 0)

/* Responses published and not yet read (check RING_RESPONSE_PROD_OVERFLOW first). */
#define RING_HAS_UNCONSUMED_RESPONSES(r) ((RING_IDX)(XEN_RING_ACQUIRE((r)->sring->rsp_prod) - (r)->rsp_cons))
/* Requests published and not yet read, never more than the slots we have answered. */
#define RING_HAS_UNCONSUMED_REQUESTS(r) ({                                            \
    RING_IDX xen_ring_reqs_ = XEN_RING_ACQUIRE((r)->sring->req_prod) - (r)->req_cons; \
    RING_IDX xen_ring_room_ = RING_SIZE(r) - ((r)->req_cons - (r)->rsp_prod_pvt);     \
    xen_ring_reqs_ < xen_ring_room_ ? xen_ring_reqs_ : xen_ring_room_;                \
})

#define RING_GET_REQUEST(r, idx) (&(r)->sring->ring[(idx) & (RING_SIZE(r) - 1)].req)
#define RING_GET_RESPONSE(r, idx) (&(r)->sring->ring[(idx) & (RING_SIZE(r) - 1)].rsp)
/* Copy an entry out before looking at it, so the peer cannot change it between two reads. */
#define RING_COPY_REQUEST(r, idx, dst) ((void)__builtin_memcpy((dst), RING_GET_REQUEST(r, idx), sizeof(*(dst))))
#define RING_COPY_RESPONSE(r, idx, dst) ((void)__builtin_memcpy((dst), RING_GET_RESPONSE(r, idx), sizeof(*(dst))))

/* Impossible indices from the peer: more requests than free slots, or responses than requests. */
#define RING_REQUEST_CONS_OVERFLOW(r, cons) ((RING_IDX)((cons) - (r)->rsp_prod_pvt) >= RING_SIZE(r))
#define RING_REQUEST_PROD_OVERFLOW(r, prod) ((RING_IDX)((prod) - (r)->rsp_prod_pvt) > RING_SIZE(r))
#define RING_RESPONSE_PROD_OVERFLOW(r, prod) ((RING_IDX)((prod) - (r)->rsp_cons) > RING_SIZE(r))

/* Publish the private producer index (entries first). */
#define RING_PUSH_REQUESTS(r) XEN_RING_RELEASE((r)->sring->req_prod, (r)->req_prod_pvt)
#define RING_PUSH_RESPONSES(r) XEN_RING_RELEASE((r)->sring->rsp_prod, (r)->rsp_prod_pvt)

/* Publish, then set `notify` if the peer asked for an event within what was just pushed. The
 * fence keeps our read of the event index after the store of the producer index. */
#define RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, notify) do {                                      \
    RING_IDX xen_ring_old_ = __atomic_load_n(&(r)->sring->req_prod, __ATOMIC_RELAXED);           \
    RING_IDX xen_ring_new_ = (r)->req_prod_pvt;                                                  \
    XEN_RING_RELEASE((r)->sring->req_prod, xen_ring_new_);                                       \
    XEN_RING_FENCE();                                                                            \
    (notify) = XEN_RING_NEEDS_NOTIFY(xen_ring_new_, xen_ring_old_,                               \
                                     __atomic_load_n(&(r)->sring->req_event, __ATOMIC_RELAXED)); \
} while (0)
#define RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, notify) do {                                     \
    RING_IDX xen_ring_old_ = __atomic_load_n(&(r)->sring->rsp_prod, __ATOMIC_RELAXED);           \
    RING_IDX xen_ring_new_ = (r)->rsp_prod_pvt;                                                  \
    XEN_RING_RELEASE((r)->sring->rsp_prod, xen_ring_new_);                                       \
    XEN_RING_FENCE();                                                                            \
    (notify) = XEN_RING_NEEDS_NOTIFY(xen_ring_new_, xen_ring_old_,                               \
                                     __atomic_load_n(&(r)->sring->rsp_event, __ATOMIC_RELAXED)); \
} while (0)

/* Before sleeping: is there more work? If not, ask for an event at the next entry, then look
 * once more, so an entry published in between is not slept through. */
#define RING_FINAL_CHECK_FOR_REQUESTS(r, work) do {                                \
    (work) = RING_HAS_UNCONSUMED_REQUESTS(r);                                      \
    if (work) break;                                                               \
    __atomic_store_n(&(r)->sring->req_event, (r)->req_cons + 1, __ATOMIC_RELAXED); \
    XEN_RING_FENCE();                                                              \
    (work) = RING_HAS_UNCONSUMED_REQUESTS(r);                                      \
} while (0)
#define RING_FINAL_CHECK_FOR_RESPONSES(r, work) do {                               \
    (work) = RING_HAS_UNCONSUMED_RESPONSES(r);                                     \
    if (work) break;                                                               \
    __atomic_store_n(&(r)->sring->rsp_event, (r)->rsp_cons + 1, __ATOMIC_RELAXED); \
    XEN_RING_FENCE();                                                              \
    (work) = RING_HAS_UNCONSUMED_RESPONSES(r);                                     \
} while (0)

#endif /* PVKVM_XEN_ABI_IO_RING_H */

/*
 * pvkvm/xenstore.h: a synchronous xenstore client over the shared ring (docs/xen-abi.md §12).
 *
 *   if (xs_init() < 0) ...;                          // no xenstore: -XEN_ENODEV
 *   char v[64];
 *   int n = xs_read(XBT_NIL, "domid", v, sizeof v);  // relative to /local/domain/<our id>
 *   xs_write(XBT_NIL, "data/key", "value");
 *   xs_watch("data/key", "tok");                      // fires once at once, then on changes
 *   char path[128], token[32];
 *   xs_wait_watch(path, sizeof path, token, sizeof token, 5 * NSEC_PER_SEC);
 *
 * The ring page and its event channel come from HVM_PARAM_STORE_PFN / HVM_PARAM_STORE_EVTCHN
 * (the port is already bound to xenstored). Every call sends one request and waits for its reply;
 * calls are serialised by a lock (a call made on a vCPU that is already inside the client, e.g.
 * from an event handler, returns -XEN_EDEADLK). Results are 0 (or a count/length) on success and
 * a negative Xen errno on failure: the server's error names map to -XEN_E* (ENOENT → -XEN_ENOENT,
 * EACCES → -XEN_EACCES, ...), a reply that does not come within the timeout (xs_set_timeout,
 * default 30 s) gives -XEN_ETIMEDOUT, a broken ring -XEN_EIO.
 *
 * Waiting never spins: it is SCHEDOP_poll on the store port, which the client masks at xs_init
 * so the upcall dispatcher never consumes its events (see src/xen/xenstore.c). It works with or
 * without evtchn_init and with interrupts on or off.
 *
 * Watch events that arrive while a request waits for its reply are queued (XS_WATCH_QUEUE
 * entries, each event at most XS_WATCH_EVENT_MAX bytes of path + token; when full the oldest is
 * dropped and counted) and handed out by xs_wait_watch / xs_wait_watch_token.
 *
 * The wire structures come from <xen-abi/io/xs-wire.h>, generated from abi/io (docs/xen-abi.md
 * §12.1 and §12.2).
 */
#ifndef PVKVM_XENSTORE_H
#define PVKVM_XENSTORE_H
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/evtchn.h>
#include <xen-abi/io/xs-wire.h>

/* The wire format (docs/xen-abi.md §12: enum xsd_sockmsg_type XS_*, struct xsd_sockmsg,
 * XENSTORE_PAYLOAD_MAX / _RING_SIZE / _*_PATH_MAX, struct xenstore_domain_interface, the
 * xsd_errors name table) is generated from abi/io/xs-wire.ts. */

/* --- the client --- */
typedef uint32_t xs_transaction_t;
#define XBT_NIL ((xs_transaction_t)0)

#define XS_FOREVER UINT64_MAX /* a timeout that never expires */
#define XS_WATCH_QUEUE 16u
#define XS_WATCH_EVENT_MAX 1024u

/* Read HVM_PARAM_STORE_PFN / _EVTCHN and set up the ring. 0, or -XEN_ENODEV when there is no
 * xenstore (a param is 0, or no Xen), or another -errno. Idempotent. */
int xs_init(void);
int xs_available(void);          /* 1 after a successful xs_init */
evtchn_port_t xs_port(void);     /* the store port (0 before xs_init) */
/* Reply timeout for every request (ns; XS_FOREVER waits forever). Default 30 s. */
void xs_set_timeout(uint64_t ns);

/* Read a value into buf (NUL-terminated, truncated to len-1 bytes). Returns the value's full
 * length (so a result >= len means it was truncated), or -errno. */
int xs_read(xs_transaction_t t, const char *path, char *buf, size_t len);
/* Write a string value (creates missing parents). 0 or -errno. */
int xs_write(xs_transaction_t t, const char *path, const char *value);
/* Write n raw bytes as the value. */
int xs_write_bytes(xs_transaction_t t, const char *path, const void *data, size_t n);
int xs_mkdir(xs_transaction_t t, const char *path);
int xs_rm(xs_transaction_t t, const char *path);   /* recursive */
/* Children of path into buf as NUL-terminated names one after another. Returns their number,
 * -XEN_E2BIG if buf is too small, or -errno. Walk them with
 *   for (const char *p = buf; n--; p += strlen(p) + 1) ... */
int xs_directory(xs_transaction_t t, const char *path, char *buf, size_t len);

/* Permissions: the first entry names the owner, whose access letter is everyone else's default. */
#define XS_PERM_NONE 0u
#define XS_PERM_READ 1u
#define XS_PERM_WRITE 2u
#define XS_PERM_BOTH (XS_PERM_READ | XS_PERM_WRITE)
struct xs_permissions {
  uint32_t id;   /* domid */
  uint32_t perms; /* XS_PERM_* */
};
/* Fill up to max entries; returns the total number of entries (may exceed max) or -errno. */
int xs_get_perms(xs_transaction_t t, const char *path, struct xs_permissions *perms, unsigned max);
int xs_set_perms(xs_transaction_t t, const char *path, const struct xs_permissions *perms, unsigned n);

/* Watches. The server fires a new watch once straight away. Event paths are relative when the
 * watch path was. xs_unwatch also drops queued events with that token. */
int xs_watch(const char *path, const char *token);
int xs_unwatch(const char *path, const char *token);
/* Wait up to timeout_ns (relative; 0 = only look, XS_FOREVER = no limit) for a watch event and
 * copy its path and token (NUL-terminated, truncated; either buffer may be NULL). 0, or
 * -XEN_ETIMEDOUT, or -errno. */
int xs_wait_watch(char *path, size_t path_len, char *token, size_t token_len, uint64_t timeout_ns);
/* The same, for events with this token only; other events stay queued. */
int xs_wait_watch_token(const char *token, char *path, size_t path_len, uint64_t timeout_ns);
/* Events dropped because the queue was full or the event was too long. */
unsigned xs_watch_events_dropped(void);

/* Transactions: end(t, 1) commits (-XEN_EAGAIN on conflict: start again), end(t, 0) aborts. */
int xs_transaction_start(xs_transaction_t *t);
int xs_transaction_end(xs_transaction_t t, int commit);
/* Run fn in a transaction and commit, starting again while the commit (or fn) returns
 * -XEN_EAGAIN, at most max_tries times (0 = 64). If fn returns another negative value the
 * transaction is aborted and that value returned. Returns 0 or -errno. */
int xs_transaction(int (*fn)(xs_transaction_t t, void *arg), void *arg, unsigned max_tries);

/* "/local/domain/<domid>" as the server names it. Returns the length or -errno. */
int xs_get_domain_path(unsigned domid, char *buf, size_t len);

/* Map an xenstore error name ("ENOENT") to -XEN_E*; unknown names give -XEN_EIO. */
int xs_errno_from_name(const char *name);

#endif

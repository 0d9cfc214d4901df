/*
 * pvkvm/pvconsole.h: the PV console ring (xencons_interface, docs/xen-abi.md §11).
 *
 *   if (pvconsole_init() == 0) {                 // -XEN_ENODEV: no console backend
 *     pvconsole_write("hi\n", 3);
 *     char line[128];
 *     long n = pvconsole_getline(line, sizeof line, PVCONSOLE_FOREVER);
 *   }
 *
 * The page and its event channel come from HVM_PARAM_CONSOLE_PFN / HVM_PARAM_CONSOLE_EVTCHN (the
 * port is already bound to dom0's console backend). `out` (2048 bytes) carries guest → backend,
 * `in` (1024 bytes) backend → guest; indices are free-running u32, masked with size - 1.
 *
 * printf and the rest of <pvkvm/console.h> use this ring automatically when the domain has a
 * console backend (HVM_PARAM_CONSOLE_EVTCHN != 0, decided on the first output): console.c's
 * line flush calls pvconsole_try_write(), and console_flush() also waits (bounded) until the
 * backend has taken everything. Without a backend they keep using console_io / port 0xE9.
 *
 * Waiting never spins: SCHEDOP_poll on the console port, which pvconsole_init masks so the
 * upcall dispatcher never consumes its events (the same scheme as xenstore.c). The backend
 * signals after it drains output and after it adds input.
 */
#ifndef PVKVM_PVCONSOLE_H
#define PVKVM_PVCONSOLE_H
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/time.h>
#include <xen-abi/io/console.h>

/* struct xencons_interface and XENCONS_IN_SIZE / XENCONS_OUT_SIZE come from
 * <xen-abi/io/console.h>, generated from abi/io/console.ts (docs/xen-abi.md §11). */

#define PVCONSOLE_FOREVER UINT64_MAX
/* A write gives up on the ring when the backend has taken nothing for this long. */
#define PVCONSOLE_STALL_NS (5 * NSEC_PER_SEC)

/* Read the params and set up the ring. 0, -XEN_ENODEV without a console backend (or without
 * Xen), or another -errno. Idempotent. */
int pvconsole_init(void);
int pvconsole_available(void);          /* 1 once pvconsole_init has succeeded */
evtchn_port_t pvconsole_port(void);

/* Write all n bytes, waiting while the ring is full (never drops bytes). Returns n, or fewer if
 * the backend took nothing for PVCONSOLE_STALL_NS (then the rest was not written), or -errno if
 * the console is unavailable or broken. */
long pvconsole_write(const void *buf, size_t n);
/* Wait until the backend has consumed all output, up to timeout_ns. 0 or -XEN_ETIMEDOUT. */
int pvconsole_drain(uint64_t timeout_ns);

/* Copy up to n input bytes that are available now (non-blocking). Returns the count (0: none),
 * or -errno. Frees ring space and signals the backend. */
long pvconsole_read(void *buf, size_t n);
/* Like pvconsole_read, but wait up to timeout_ns (relative) for at least one byte. Returns the
 * count, 0 on timeout, or -errno. */
long pvconsole_read_wait(void *buf, size_t n, uint64_t timeout_ns);
/* Read one line (ended by "\n", "\r" or "\r\n"; the terminator is not stored) into buf,
 * NUL-terminated. A line longer than n - 1 bytes comes back in pieces. Returns its length,
 * -XEN_ETIMEDOUT if no whole line came within timeout_ns (the partial line is kept for the next
 * call), or -errno. */
long pvconsole_getline(char *buf, size_t n, uint64_t timeout_ns);

/* console.c's hooks. pvconsole_try_write decides once (when Xen is present) whether a console
 * backend exists; then it writes through the ring and returns how many bytes it took (0 when the
 * PV console is not in use, or it is re-entered on the same vCPU: the caller writes the rest the
 * old way). pvconsole_try_drain waits up to 2 s for the backend to take everything. */
size_t pvconsole_try_write(const char *s, size_t n);
void pvconsole_try_drain(void);

#endif

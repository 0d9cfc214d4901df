/* Generated from abi/index.ts (ABI_MODULES "sched.h") by abi/gen/c-headers.ts; do not edit. */
#ifndef PVKVM_XEN_ABI_SCHED_H
#define PVKVM_XEN_ABI_SCHED_H

#include <stdint.h>

/* sched_op commands */
#define SCHEDOP_yield           0
#define SCHEDOP_block           1
#define SCHEDOP_shutdown        2
#define SCHEDOP_poll            3
#define SCHEDOP_remote_shutdown 4
#define SCHEDOP_shutdown_code   5
#define SCHEDOP_watchdog        6
#define SCHEDOP_pin_override    7

/* Shutdown reasons */
#define SHUTDOWN_poweroff   0
#define SHUTDOWN_reboot     1
#define SHUTDOWN_suspend    2
#define SHUTDOWN_crash      3
#define SHUTDOWN_watchdog   4
#define SHUTDOWN_soft_reset 5

/* sched_shutdown: 4 bytes (Xen: struct sched_shutdown). */
struct sched_shutdown {
    uint32_t reason;
};
_Static_assert(sizeof(struct sched_shutdown) == 4, "sched_shutdown: size");
_Static_assert(__builtin_offsetof(struct sched_shutdown, reason) == 0, "sched_shutdown: offset of reason");

/* sched_poll: 24 bytes (Xen: struct sched_poll). */
struct sched_poll {
    uint64_t ports;
    uint32_t nr_ports;
    uint8_t _pad0[4];
    uint64_t timeout;
};
_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll: size");
_Static_assert(__builtin_offsetof(struct sched_poll, ports) == 0, "sched_poll: offset of ports");
_Static_assert(__builtin_offsetof(struct sched_poll, nr_ports) == 8, "sched_poll: offset of nr_ports");
_Static_assert(__builtin_offsetof(struct sched_poll, timeout) == 16, "sched_poll: offset of timeout");

/* sched_remote_shutdown: 8 bytes (Xen: struct sched_remote_shutdown). */
struct sched_remote_shutdown {
    uint16_t domain_id;
    uint8_t _pad0[2];
    uint32_t reason;
};
_Static_assert(sizeof(struct sched_remote_shutdown) == 8, "sched_remote_shutdown: size");
_Static_assert(__builtin_offsetof(struct sched_remote_shutdown, domain_id) == 0, "sched_remote_shutdown: offset of domain_id");
_Static_assert(__builtin_offsetof(struct sched_remote_shutdown, reason) == 4, "sched_remote_shutdown: offset of reason");

/* sched_watchdog: 8 bytes (Xen: struct sched_watchdog). */
struct sched_watchdog {
    uint32_t id;
    uint32_t timeout;
};
_Static_assert(sizeof(struct sched_watchdog) == 8, "sched_watchdog: size");
_Static_assert(__builtin_offsetof(struct sched_watchdog, id) == 0, "sched_watchdog: offset of id");
_Static_assert(__builtin_offsetof(struct sched_watchdog, timeout) == 4, "sched_watchdog: offset of timeout");

/* compat_sched_poll: 16 bytes (Xen: struct sched_poll, i386 layout). */
struct compat_sched_poll {
    uint32_t ports;
    uint32_t nr_ports;
    uint64_t timeout;
};
_Static_assert(sizeof(struct compat_sched_poll) == 16, "compat_sched_poll: size");
_Static_assert(__builtin_offsetof(struct compat_sched_poll, ports) == 0, "compat_sched_poll: offset of ports");
_Static_assert(__builtin_offsetof(struct compat_sched_poll, nr_ports) == 4, "compat_sched_poll: offset of nr_ports");
_Static_assert(__builtin_offsetof(struct compat_sched_poll, timeout) == 8, "compat_sched_poll: offset of timeout");

/* compat_sched_watchdog: 8 bytes (Xen: struct sched_watchdog, i386 layout). */
struct compat_sched_watchdog {
    uint32_t id;
    uint32_t timeout;
};
_Static_assert(sizeof(struct compat_sched_watchdog) == 8, "compat_sched_watchdog: size");
_Static_assert(__builtin_offsetof(struct compat_sched_watchdog, id) == 0, "compat_sched_watchdog: offset of id");
_Static_assert(__builtin_offsetof(struct compat_sched_watchdog, timeout) == 4, "compat_sched_watchdog: offset of timeout");

#endif /* PVKVM_XEN_ABI_SCHED_H */

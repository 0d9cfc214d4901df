/*
 * pvkvm/xenbus.h: PV-device (frontend) helpers on top of xenstore, and the control/shutdown
 * protocol (docs/xen-abi.md §12.3, §13). Needs xs_init() first.
 *
 *   unsigned ids[8];
 *   int n = xenbus_list_devices("vbd", ids, 8);           // device/vbd/<id>
 *   char dev[64], be[128];
 *   xenbus_device_path("vbd", ids[0], dev, sizeof dev);   // "device/vbd/51712" (relative)
 *   domid_t beid;
 *   xenbus_read_backend(dev, be, sizeof be, &beid);
 *   xenbus_wait_state(be, XENBUS_STATE_BIT(XenbusStateInitWait), 5 * NSEC_PER_SEC);
 *   xenbus_switch_state(dev, XenbusStateInitialised);
 *
 * Paths may be relative (to /local/domain/<our id>) or absolute. Every function returns a
 * negative Xen errno on failure.
 */
#ifndef PVKVM_XENBUS_H
#define PVKVM_XENBUS_H
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/xenstore.h>
#include <xen-abi/io/xenbus.h>

/* enum xenbus_state (XenbusStateUnknown … XenbusStateReconfigured) comes from
 * <xen-abi/io/xenbus.h>, generated from abi/io/xenbus.ts (docs/xen-abi.md §13). */
#define XENBUS_STATE_BIT(s) (1u << (s))

const char *xenbus_state_name(int state); /* "Connected", ...; "?" if out of range */

/* Read a decimal (or 0x hex) integer. 0, -XEN_EINVAL if the value is not a number, or -errno. */
int xenbus_read_int(xs_transaction_t t, const char *path, long long *value);
/* Write a formatted value (at most 256 bytes). 0 or -errno. */
int xenbus_printf(xs_transaction_t t, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write <dir>/state. 0 or -errno. */
int xenbus_switch_state(const char *dir, enum xenbus_state state);
/* Read <dir>/state: the state (>= 0), or -errno (-XEN_ENOENT if there is none). */
int xenbus_read_state(const char *dir);
/* Watch <dir>/state until it is one of `wanted` (a mask of XENBUS_STATE_BIT), for up to
 * timeout_ns (XS_FOREVER: no limit). Returns the state reached, or -XEN_ETIMEDOUT, or -errno.
 * Other watch events stay queued for their owners. */
int xenbus_wait_state(const char *dir, unsigned wanted, uint64_t timeout_ns);

/* What every PV frontend needs before it opens a device: Xen present, the xenstore ring, the
 * shared-info page (event channels) and the grant table. Returns 0 or -errno. */
int xenbus_frontend_ready(void);

/* The ids under device/<type> (decimal names), up to max of them into ids. Returns how many
 * there are (0 when device/<type> does not exist), or -errno. */
int xenbus_list_devices(const char *type, unsigned *ids, unsigned max);
/* Wait until device/<type> holds more than `index` devices (one the toolstack hot-plugs later
 * appears there), for up to timeout_ns. Returns 0, -XEN_ETIMEDOUT or -errno. */
int xenbus_wait_devices(const char *type, unsigned index, uint64_t timeout_ns);
/* "device/<type>/<id>" into buf. Returns the length, or -XEN_E2BIG if it does not fit. */
int xenbus_device_path(const char *type, unsigned id, char *buf, size_t len);
/* A frontend's <dev>/backend (absolute path, into buf) and <dev>/backend-id (into *backend_id;
 * either output may be NULL). 0 or -errno. */
int xenbus_read_backend(const char *dev, char *buf, size_t len, domid_t *backend_id);

/*
 * control/shutdown (as Linux's drivers/xen/manage.c). xenbus_watch_control_shutdown writes
 * control/feature-poweroff = "1" and control/feature-reboot = "1" and watches control/shutdown
 * (token XENBUS_CONTROL_TOKEN). xenbus_wait_control_shutdown waits for a non-empty command; in
 * one transaction it reads it and, if it is one we act on, acks it by writing "". Commands:
 *   "poweroff", "halt" → SHUTDOWN_poweroff · "reboot" → SHUTDOWN_reboot · "crash" → SHUTDOWN_crash
 * It returns that SHUTDOWN_* reason; "suspend" (not advertised: no feature-suspend) and unknown
 * commands are left un-acked and ignored, and the wait goes on. -XEN_ETIMEDOUT or -errno on
 * failure. If `command` is not NULL it receives the command string.
 * xenbus_handle_control_shutdown waits the same way and then calls pvkvm_shutdown(reason); it
 * returns only on failure.
 */
#define XENBUS_CONTROL_TOKEN "pvkvm-control-shutdown"
int xenbus_watch_control_shutdown(void);
/* Write control/feature-suspend = "1": from then on xenbus_wait_control_shutdown also answers
 * "suspend" (with SHUTDOWN_suspend); the caller then calls pvkvm_suspend(). */
int xenbus_offer_suspend(void);
int xenbus_wait_control_shutdown(uint64_t timeout_ns, char *command, size_t command_len);
int xenbus_handle_control_shutdown(uint64_t timeout_ns);

/*
 * vCPU hot-plug (as Linux's drivers/xen/cpu_hotplug.c): the toolstack (pvkvm vcpu-set, xl
 * vcpu-set) writes cpu/N/availability = "online" or "offline"; these apply it to the SDK's online
 * set with pvkvm_vcpu_set_online (<pvkvm/smp.h>): an offline vCPU stops taking work and downs
 * itself (VCPUOP_down), an online one is upped again or given the pvkvm_smp_on_online work.
 * xenbus_watch_cpu_hotplug watches cpu (token XENBUS_CPU_TOKEN) and applies every vCPU's current
 * availability (starting the on-online work on the online ones); it returns how many vCPUs it
 * took offline, or -errno. xenbus_handle_cpu_hotplug waits up to timeout_ns for a change and
 * applies it: the number of vCPUs that changed (0 if the event changed nothing), -XEN_ETIMEDOUT,
 * or -errno. Call both from vCPU 0 (it is never taken offline); each vCPU taken offline or
 * online is waited for (up to 10 s; a failure is printed and the next one handled).
 */
#define XENBUS_CPU_TOKEN "pvkvm-cpu-hotplug"
int xenbus_watch_cpu_hotplug(void);
int xenbus_handle_cpu_hotplug(uint64_t timeout_ns);

#endif

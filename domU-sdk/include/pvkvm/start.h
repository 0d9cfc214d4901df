/*
 * pvkvm/start.h: what the PVH loader handed us (hvm_start_info, command line, memory map), the
 * SDK's mode, and shutting the domain down.
 *
 * A guest defines `int main(void)`. The runtime calls it after setting up long mode, the IDT,
 * the hypercall page and the console; returning 0 powers off, anything else shuts down with
 * SHUTDOWN_crash.
 *
 * main runs at CPL 3 above a small CPL-0 kernel (PVKVM_MODE_USER, <pvkvm/cpu.h>), unless the
 * guest was built for CPL 0 with PVKVM_SDK_MODE(kernel) or the command line says
 * `sdk.mode=kernel` (`sdk.mode=user` overrides the build the other way).
 */
#ifndef PVKVM_START_H
#define PVKVM_START_H
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/cpu.h>
#include <pvkvm/xen.h>

int main(void);

/* The mode a guest is built for: PVKVM_SDK_MODE(kernel) or PVKVM_SDK_MODE(user), once, at file
 * scope (it overrides the SDK's weak default, user). */
#define PVKVM_SDK_MODE_kernel PVKVM_MODE_KERNEL
#define PVKVM_SDK_MODE_user PVKVM_MODE_USER
#define PVKVM_SDK_MODE(m) const int pvkvm_sdk_mode_default = PVKVM_SDK_MODE_##m
extern const int pvkvm_sdk_mode_default;

/* The kernel hands the start info over before main's side runs (not for guests). */
void pvkvm_start_info_init(struct hvm_start_info *si);

/* The start info passed in EBX at entry, or NULL if there was none or its magic was wrong. */
const struct hvm_start_info *pvkvm_start_info(void);

/* The command line ("" if none). Words are separated by spaces; values are key=value. */
const char *pvkvm_cmdline(void);
/* Copy the value of key=value into buf (NUL-terminated, truncated to len-1).
 * Returns the value's full length, 0 for a bare `key`, or -1 if the key is absent. */
int pvkvm_cmdline_get(const char *key, char *buf, size_t len);
/* Numeric value of key=N (decimal or 0x hex), or dflt if absent or not a number. */
unsigned long long pvkvm_cmdline_ull(const char *key, unsigned long long dflt);
/* Nonzero if `key` or `key=...` is present. */
int pvkvm_cmdline_has(const char *key);

/* The start info's memory map: sets *entries and returns the count (0 if there is none). */
unsigned pvkvm_memmap(const struct hvm_memmap_table_entry **entries);
/* Total bytes of type XEN_HVM_MEMMAP_TYPE_RAM in the memory map. */
uint64_t pvkvm_ram_bytes(void);

/*
 * SCHEDOP_shutdown with a SHUTDOWN_* reason. Flushes the console first. Without Xen, writes the
 * reason to QEMU's isa-debug-exit port (0x501; QEMU then exits with status reason*2+1) and halts.
 */
void pvkvm_shutdown(unsigned reason) __attribute__((noreturn));
/*
 * Suspend for a save (SCHEDOP_shutdown(SHUTDOWN_suspend)), the way Xen guests answer
 * control/shutdown = "suspend". Returns 0 when resumed in a new domain (`pvkvm restore`), 1 when
 * the save was cancelled or kept the domain (`pvkvm save -c`), or -errno. Memory, registers and
 * event channels come back as they were; xenstore watches do not (re-register them). After a
 * restore, open blkfront and netfront devices reconnect to the new domain's backends before this
 * returns (blkfront_resume, netfront_resume): in-flight disk requests are issued again.
 */
long pvkvm_suspend(void);

#endif

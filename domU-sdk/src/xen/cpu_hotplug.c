/* cpu_hotplug.c: the xenstore side of vCPU hot-plug (as Linux's drivers/xen/cpu_hotplug.c) — a
 * watch on cpu/, each cpu/N/availability applied to the SDK's online set (src/xen/smp.c). */
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/smp.h>
#include <pvkvm/string.h>
#include <pvkvm/xenbus.h>

/* How long a vCPU taken offline has to stop its work, and one brought online to resume it. */
#define HOTPLUG_STEP_NS (10ull * NSEC_PER_SEC)

/* 1 online, 0 offline, -1 no usable node (missing or another value: left as it is, as Linux does). */
static int availability(unsigned vcpu) {
  char path[40], v[16];
  snprintf(path, sizeof(path), "cpu/%u/availability", vcpu);
  int n = xs_read(XBT_NIL, path, v, sizeof(v));
  if (n < 0 || (size_t)n >= sizeof(v)) return -1;
  if (strcmp(v, "online") == 0) return 1;
  if (strcmp(v, "offline") == 0) return 0;
  return -1;
}

/* Apply every vCPU's availability; `all`: also (re)apply the ones that did not change. */
static int apply(int all) {
  int changed = 0, n = pvkvm_nr_vcpus();
  for (unsigned v = 1; v < (unsigned)n; v++) {
    int want = availability(v);
    if (want < 0 || (!all && want == pvkvm_vcpu_online(v))) continue;
    if (want != pvkvm_vcpu_online(v)) changed++;
    long rc = pvkvm_vcpu_set_online(v, want, HOTPLUG_STEP_NS);
    if (rc < 0) printf("xenbus: vCPU %u %s: %ld\n", v, want ? "online" : "offline", rc);
  }
  return changed;
}

int xenbus_watch_cpu_hotplug(void) {
  int rc = xs_watch("cpu", XENBUS_CPU_TOKEN);
  if (rc < 0) return rc;
  /* The watch fires once at once: that event is this first pass. */
  rc = xs_wait_watch_token(XENBUS_CPU_TOKEN, NULL, 0, HOTPLUG_STEP_NS);
  if (rc < 0 && rc != -XEN_ETIMEDOUT) return rc;
  return apply(1);
}

int xenbus_handle_cpu_hotplug(uint64_t timeout_ns) {
  int rc = xs_wait_watch_token(XENBUS_CPU_TOKEN, NULL, 0, timeout_ns);
  if (rc < 0) return rc;
  /* One transaction changes several nodes, one event each: take them all, then look once. */
  while (xs_wait_watch_token(XENBUS_CPU_TOKEN, NULL, 0, 0) == 0) {
  }
  return apply(0);
}

/* xenbus.c: frontend helpers on top of xenstore (states, devices, backend) and control/shutdown. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pvkvm/console.h>
#include <pvkvm/deadline.h>
#include <pvkvm/evtchn.h>
#include <pvkvm/grant.h>
#include <pvkvm/hypercall.h>
#include <pvkvm/lock.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include <pvkvm/time.h>
#include <pvkvm/xenbus.h>

#define PATH_MAX_LEN 256u  /* the paths these helpers build */
#define VALUE_MAX_LEN 256u /* xenbus_printf values */

static const char *const state_names[] = {
    "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
    "Closing", "Closed",       "Reconfiguring", "Reconfigured",
};

const char *xenbus_state_name(int state) {
  return state >= 0 && (unsigned)state < sizeof(state_names) / sizeof(state_names[0]) ? state_names[state] : "?";
}

/* What is left of a deadline, as a timeout for the next xenstore wait (XS_FOREVER stays). */
static uint64_t remaining(uint64_t deadline) { return deadline_remaining(pvkvm_time_ns(), deadline); }

/* snprintf into a path buffer; -XEN_E2BIG if it does not fit. */
static int make_path(char *buf, size_t len, const char *a, const char *b) {
  int n = snprintf(buf, len, "%s/%s", a, b);
  return n < 0 || (size_t)n >= len ? -XEN_E2BIG : n;
}

int xenbus_read_int(xs_transaction_t t, const char *path, long long *value) {
  char buf[32];
  int n = xs_read(t, path, buf, sizeof(buf));
  if (n < 0) return n;
  if ((size_t)n >= sizeof(buf)) return -XEN_EINVAL; /* too long for a number */
  const char *s = buf, *end;
  while (*s == ' ') s++;
  long long v = strtoll(s, &end, 0);
  if (end == s || (s[0] == '-' && end == s + 1) || (s[0] == '+' && end == s + 1)) return -XEN_EINVAL;
  while (*end == ' ' || *end == '\n') end++;
  if (*end) return -XEN_EINVAL;
  if (value) *value = v;
  return 0;
}

int xenbus_printf(xs_transaction_t t, const char *path, const char *fmt, ...) {
  char buf[VALUE_MAX_LEN];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(buf)) return -XEN_E2BIG;
  return xs_write(t, path, buf);
}

int xenbus_switch_state(const char *dir, enum xenbus_state state) {
  char key[PATH_MAX_LEN];
  int rc = make_path(key, sizeof(key), dir, "state");
  if (rc < 0) return rc;
  return xenbus_printf(XBT_NIL, key, "%d", (int)state);
}

int xenbus_read_state(const char *dir) {
  char key[PATH_MAX_LEN];
  int rc = make_path(key, sizeof(key), dir, "state");
  if (rc < 0) return rc;
  long long v;
  rc = xenbus_read_int(XBT_NIL, key, &v);
  if (rc < 0) return rc;
  return v < 0 || v > 0x7fffffff ? -XEN_EINVAL : (int)v;
}

int xenbus_wait_state(const char *dir, unsigned wanted, uint64_t timeout_ns) {
  static unsigned token_seq;
  char key[PATH_MAX_LEN], token[32];
  int rc = make_path(key, sizeof(key), dir, "state");
  if (rc < 0) return rc;
  snprintf(token, sizeof(token), "pvkvm-state-%u", __atomic_fetch_add(&token_seq, 1, __ATOMIC_RELAXED));
  uint64_t deadline = deadline_after(timeout_ns);
  rc = xs_watch(key, token);
  if (rc < 0) return rc;
  for (;;) {
    int s = xenbus_read_state(dir);
    if (s >= 0 && s < 32 && (wanted & XENBUS_STATE_BIT(s))) {
      rc = s;
      break;
    }
    /* Not there yet (or not a number yet) is a reason to wait; anything else is an error. */
    if (s < 0 && s != -XEN_ENOENT && s != -XEN_EINVAL) {
      rc = s;
      break;
    }
    uint64_t left = remaining(deadline);
    if (left == 0) {
      rc = -XEN_ETIMEDOUT;
      break;
    }
    rc = xs_wait_watch_token(token, NULL, 0, left);
    if (rc < 0) break;
  }
  xs_unwatch(key, token);
  return rc;
}

int xenbus_wait_devices(const char *type, unsigned index, uint64_t timeout_ns) {
  char dir[PATH_MAX_LEN], token[48];
  int rc = make_path(dir, sizeof(dir), "device", type);
  if (rc < 0) return rc;
  snprintf(token, sizeof(token), "pvkvm-hotplug-%s", type);
  rc = xenbus_list_devices(type, NULL, 0);
  if (rc < 0 || (unsigned)rc > index) return rc < 0 ? rc : 0;
  /* A watch fires once when set and then on every change below device/<type>. */
  rc = xs_watch(dir, token);
  if (rc < 0) return rc;
  uint64_t deadline = deadline_after(timeout_ns);
  for (;;) {
    rc = xenbus_list_devices(type, NULL, 0);
    if (rc < 0 || (unsigned)rc > index) break;
    uint64_t now = pvkvm_time_ns();
    if (now >= deadline) {
      rc = -XEN_ETIMEDOUT;
      break;
    }
    rc = xs_wait_watch_token(token, NULL, 0, deadline_remaining(now, deadline));
    if (rc < 0 && rc != -XEN_ETIMEDOUT) break;
  }
  xs_unwatch(dir, token);
  return rc < 0 ? rc : 0;
}

int xenbus_device_path(const char *type, unsigned id, char *buf, size_t len) {
  int n = snprintf(buf, len, "device/%s/%u", type, id);
  return n < 0 || (size_t)n >= len ? -XEN_E2BIG : n;
}

int xenbus_frontend_ready(void) {
  if (!pvkvm_xen_present()) return -XEN_ENODEV;
  int rc = xs_init();
  if (rc < 0) return rc;
  if (!pvkvm_shared_info()) return (int)pvkvm_shared_info_error();
  long lrc = gnttab_init();
  return lrc < 0 ? (int)lrc : 0;
}

int xenbus_list_devices(const char *type, unsigned *ids, unsigned max) {
  char dir[PATH_MAX_LEN];
  int rc = make_path(dir, sizeof(dir), "device", type);
  if (rc < 0) return rc;
  /* The reply is too big for a secondary vCPU's stack, so it goes here: one caller at a time. */
  static char names[XENSTORE_PAYLOAD_MAX + 1];
  static pvkvm_owner_lock_t names_lock = PVKVM_OWNER_LOCK_INIT;
  rc = owner_lock(&names_lock);
  if (rc < 0) return rc;
  int n = xs_directory(XBT_NIL, dir, names, sizeof(names));
  int count = 0;
  if (n == -XEN_ENOENT) {
    n = 0;
  } else if (n < 0) {
    count = n;
    n = 0;
  }
  const char *p = names;
  for (int i = 0; i < n; i++, p += strlen(p) + 1) {
    const char *end;
    unsigned long long id = strtoull(p, &end, 10);
    if (end == p || *end || id > 0xffffffffULL) continue; /* not a device id */
    if ((unsigned)count < max && ids) ids[count] = (unsigned)id;
    count++;
  }
  owner_unlock(&names_lock);
  return count;
}

int xenbus_read_backend(const char *dev, char *buf, size_t len, domid_t *backend_id) {
  char key[PATH_MAX_LEN];
  int rc;
  if (buf) {
    if ((rc = make_path(key, sizeof(key), dev, "backend")) < 0) return rc;
    int n = xs_read(XBT_NIL, key, buf, len);
    if (n < 0) return n;
    if ((size_t)n >= len) return -XEN_E2BIG;
  }
  if (backend_id) {
    if ((rc = make_path(key, sizeof(key), dev, "backend-id")) < 0) return rc;
    long long id;
    if ((rc = xenbus_read_int(XBT_NIL, key, &id)) < 0) return rc;
    if (id < 0 || id >= DOMID_FIRST_RESERVED) return -XEN_EINVAL;
    *backend_id = (domid_t)id;
  }
  return 0;
}

/* ---- control/shutdown ---- */

#define CONTROL_SHUTDOWN "control/shutdown"

int xenbus_watch_control_shutdown(void) {
  int rc = xs_write(XBT_NIL, "control/feature-poweroff", "1");
  if (rc == 0) rc = xs_write(XBT_NIL, "control/feature-reboot", "1");
  if (rc == 0) rc = xs_watch(CONTROL_SHUTDOWN, XENBUS_CONTROL_TOKEN);
  return rc;
}

static int suspend_offered; /* control/feature-suspend written: "suspend" is a command */

int xenbus_offer_suspend(void) {
  int rc = xs_write(XBT_NIL, "control/feature-suspend", "1");
  if (rc == 0) suspend_offered = 1;
  return rc;
}

static int shutdown_reason(const char *cmd) {
  if (strcmp(cmd, "poweroff") == 0 || strcmp(cmd, "halt") == 0) return SHUTDOWN_poweroff;
  if (strcmp(cmd, "reboot") == 0) return SHUTDOWN_reboot;
  if (strcmp(cmd, "crash") == 0) return SHUTDOWN_crash;
  if (strcmp(cmd, "suspend") == 0 && suspend_offered) return SHUTDOWN_suspend;
  return -1; /* "suspend" (unless xenbus_offer_suspend) and anything else: ignored */
}

struct control_read {
  char cmd[32];
  int reason; /* SHUTDOWN_*, or -1 */
};

/* In a transaction: read control/shutdown; ack a command we act on by writing "". */
static int control_read_tx(xs_transaction_t t, void *arg) {
  struct control_read *c = arg;
  c->cmd[0] = 0;
  c->reason = -1;
  int n = xs_read(t, CONTROL_SHUTDOWN, c->cmd, sizeof(c->cmd));
  if (n == -XEN_ENOENT || n == 0) return 0; /* no command */
  if (n < 0) return n;
  if ((size_t)n < sizeof(c->cmd)) c->reason = shutdown_reason(c->cmd);
  return c->reason >= 0 ? xs_write(t, CONTROL_SHUTDOWN, "") : 0;
}

int xenbus_wait_control_shutdown(uint64_t timeout_ns, char *command, size_t command_len) {
  uint64_t deadline = deadline_after(timeout_ns);
  for (;;) {
    struct control_read c;
    int rc = xs_transaction(control_read_tx, &c, 0);
    if (rc < 0) return rc;
    if (c.cmd[0]) {
      if (command && command_len) {
        size_t n = strnlen(c.cmd, command_len - 1);
        memcpy(command, c.cmd, n);
        command[n] = 0;
      }
      if (c.reason >= 0) return c.reason;
      printf("xenbus: ignoring control/shutdown request \"%s\"\n", c.cmd);
    }
    uint64_t left = remaining(deadline);
    if (left == 0) return -XEN_ETIMEDOUT;
    rc = xs_wait_watch_token(XENBUS_CONTROL_TOKEN, NULL, 0, left);
    if (rc < 0) return rc;
  }
}

int xenbus_handle_control_shutdown(uint64_t timeout_ns) {
  char cmd[32];
  int reason = xenbus_wait_control_shutdown(timeout_ns, cmd, sizeof(cmd));
  if (reason < 0) return reason;
  printf("xenbus: control/shutdown \"%s\": shutting down (reason %d)\n", cmd, reason);
  pvkvm_shutdown((unsigned)reason);
}

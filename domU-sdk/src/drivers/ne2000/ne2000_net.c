/* ne2000_net.c: the NE2000 behind <pvkvm/net.h> ("ne2k") — send through the TX buffer, receive
 * from the card's ring, polled or IRQ 9 waits; see <pvkvm/ne2000.h>. */
#include <pvkvm/console.h>
#include <pvkvm/isa.h>
#include <pvkvm/lapic.h>
#include <pvkvm/start.h>
#include <pvkvm/string.h>
#include "ne2000_dev.h"

static struct ne2k_dev the_dev; /* one card at 0x300 */

static struct ne2k_dev *dev_of(struct net_dev *n) { return n->priv; }

static void ne2k_irq(unsigned irq, void *arg) {
  struct ne2k_dev *d = arg;
  (void)irq;
  d->stats.irqs++;
  ne2k_isr_update(d); /* acknowledging drops the line */
  __atomic_add_fetch(&d->irq_seq, 1, __ATOMIC_RELEASE);
}

/* The card misbehaved (a ring header that cannot be, a DMA that never completed): start over. */
static void reinit(struct ne2k_dev *d) {
  d->stats.reinits++;
  if (ne2k_hw_init(d) < 0) d->net.broken = 1;
}

/* Wait for the previous transmission to finish (one TX buffer). 0 or -errno. */
static int tx_done(struct ne2k_dev *d, uint64_t timeout_ns) {
  if (!d->tx_busy) return 0;
  if (!(d->isr_seen & (ISR_PTX | ISR_TXE))) ne2k_isr_update(d);
  if (!(d->isr_seen & (ISR_PTX | ISR_TXE)) && timeout_ns == 0) return -XEN_EAGAIN;
  int rc = ne2k_wait_isr(d, ISR_PTX | ISR_TXE, timeout_ns ? timeout_ns : 1);
  if (rc < 0) return rc;
  d->tx_busy = 0;
  if (ne_in(EN0_TSR) & 0x08) d->net.stats.tx_errors++; /* TSR.ABT: the card refused it */
  return 0;
}

static int ne2k_send(struct net_dev *n, const void *frame, size_t len, unsigned flags) {
  struct ne2k_dev *d = dev_of(n);
  (void)flags; /* one TX buffer: every frame goes out at once */
  if (n->broken) return -XEN_EIO;
  if (len < NET_ETH_HLEN) return -XEN_EINVAL;
  if (len > NE_MAX_FRAME) return -XEN_EMSGSIZE;
  unsigned long f = local_irq_save();
  int rc = tx_done(d, 0);
  if (rc < 0) {
    n->stats.tx_full++;
    local_irq_restore(f);
    return rc;
  }
  /* The DP8390 sends what TBCR says: short frames are padded here, as Linux's ei_start_xmit does. */
  unsigned wire = len < NE_MIN_FRAME ? NE_MIN_FRAME : (unsigned)len;
  if (len < NE_MIN_FRAME) {
    uint8_t pad[NE_MIN_FRAME];
    memset(pad, 0, sizeof(pad));
    memcpy(pad, frame, len);
    rc = ne2k_dma_write(d, NE_TX_PAGE << 8, pad, wire);
  } else {
    rc = ne2k_dma_write(d, NE_TX_PAGE << 8, frame, wire);
  }
  if (rc < 0) {
    reinit(d);
    local_irq_restore(f);
    return -XEN_EIO;
  }
  ne_out(EN0_TPSR, NE_TX_PAGE);
  ne_out(EN0_TBCR0, wire & 0xff);
  ne_out(EN0_TBCR1, wire >> 8);
  ne_out(NE_CR, CR_NODMA | CR_TXP | CR_STA);
  d->tx_busy = 1;
  n->stats.tx_frames++;
  n->stats.tx_bytes += len;
  n->stats.notifies++;
  local_irq_restore(f);
  return 0;
}

static void ne2k_flush(struct net_dev *n) { (void)n; }

/* The next frame in the ring into d->frame: its length, 0 if none, -XEN_EIO after a bad header. */
static int ring_take(struct ne2k_dev *d) {
  if (d->isr_seen & ISR_OVW) {
    /* QEMU's and pvkvm's models keep receiving once room is freed: draining the ring recovers. */
    d->isr_seen &= (uint8_t)~ISR_OVW;
    d->stats.overflows++;
  }
  d->isr_seen &= (uint8_t)~(ISR_PRX | ISR_RXE);
  uint8_t curr = ne2k_curr();
  if (curr < NE_RX_START || curr >= NE_RX_STOP) return -XEN_EIO;
  if (d->next_pkt == curr) return 0;
  uint8_t hdr[4];
  if (ne2k_dma_read(d, (uint16_t)(d->next_pkt << 8), hdr, 4) < 0) return -XEN_EIO;
  unsigned next = hdr[1], count = hdr[2] | (unsigned)hdr[3] << 8;
  /* Every field comes from the device: check it before it steers a DMA or a copy. */
  if (next < NE_RX_START || next >= NE_RX_STOP || count < 4 + NET_ETH_HLEN || count > 4 + NE_MAX_FRAME + 4)
    return -XEN_EIO;
  unsigned len = count - 4;
  if (ne2k_dma_read(d, (uint16_t)((d->next_pkt << 8) + 4), d->frame, len) < 0) return -XEN_EIO;
  d->next_pkt = (uint8_t)next;
  ne_out(EN0_BNRY, next == NE_RX_START ? NE_RX_STOP - 1 : next - 1);
  if (!(hdr[0] & 0x01)) { /* RSR.PRX clear: a frame the card flagged bad */
    d->net.stats.rx_errors++;
    return ring_take(d);
  }
  return (int)len;
}

static int ne2k_recv(struct net_dev *n, void *buf, size_t len) {
  struct ne2k_dev *d = dev_of(n);
  if (n->broken) return -XEN_EIO;
  unsigned long f = local_irq_save();
  int got = ring_take(d);
  if (got < 0) {
    n->stats.rx_errors++;
    reinit(d);
    got = 0;
  }
  local_irq_restore(f);
  if (got == 0) return 0;
  if ((size_t)got > len) {
    n->stats.rx_dropped++;
    return 0;
  }
  memcpy(buf, d->frame, (size_t)got);
  n->stats.rx_frames++;
  n->stats.rx_bytes += (uint64_t)got;
  return got;
}

/* Is the ring non-empty (interrupts off)? */
static int rx_ready(struct ne2k_dev *d) { return ne2k_curr() != d->next_pkt; }

static int ne2k_wait(struct net_dev *n, unsigned what, uint64_t timeout_ns) {
  struct ne2k_dev *d = dev_of(n);
  if (n->broken) return -XEN_EIO;
  unsigned long f = local_irq_save();
  uint64_t deadline = 0;
  int rc;
  for (;;) {
    uint32_t seq = __atomic_load_n(&d->irq_seq, __ATOMIC_ACQUIRE);
    if ((what & NET_WAIT_RX) && rx_ready(d)) { rc = 1; break; }
    if ((what & NET_WAIT_TX) && tx_done(d, 0) == 0) { rc = 1; break; }
    if (timeout_ns == 0) { rc = -XEN_ETIMEDOUT; break; }
    if (!deadline) deadline = isa_deadline(timeout_ns);
    if (isa_time_ns() >= deadline) { rc = -XEN_ETIMEDOUT; break; }
    n->stats.waits++;
    if (d->mode == NE2K_IRQ_MODE && !isa_in_irq()) {
      /* Sleep until the handler ran (it acknowledged PRX/PTX) or the tick; recheck either way. */
      if (d->irq_seq == seq) isa_idle(deadline);
      cli();
    } else {
      /* Polled: wait on ISR (one port read per look), then check the ring. */
      uint64_t spin_end = isa_deadline(100000);
      while (!(d->isr_seen & (ISR_PRX | ISR_PTX | ISR_TXE | ISR_OVW)) && isa_time_ns() < spin_end) {
        ne2k_isr_update(d);
        cpu_relax();
      }
    }
  }
  local_irq_restore(f);
  return rc;
}

static int ne2k_close(struct net_dev *n) {
  struct ne2k_dev *d = dev_of(n);
  unsigned long f = local_irq_save();
  (void)tx_done(d, NE_TIMEOUT_NS);
  ne_out(EN0_IMR, 0);
  ne_out(NE_CR, CR_NODMA | CR_STP);
  local_irq_restore(f);
  if (d->mode == NE2K_IRQ_MODE) isa_irq_detach(NE2K_IRQ);
  d->opened = 0;
  return 0;
}

static const struct net_ops ne2k_ops = {
    .name = "ne2000", .send = ne2k_send, .flush = ne2k_flush, .recv = ne2k_recv, .wait = ne2k_wait, .close = ne2k_close};

int ne2k_open(enum ne2k_mode mode, struct net_dev **out) {
  struct ne2k_dev *d = &the_dev;
  if (d->opened) {
    *out = &d->net;
    return 0;
  }
  if (!ne2k_probe()) return -XEN_ENODEV;
  memset(d, 0, sizeof(*d));
  d->mode = mode;
  d->net.ops = &ne2k_ops;
  d->net.priv = d;
  d->net.mtu = NET_DEFAULT_MTU;
  d->net.max_frame = NE_MAX_FRAME;
  snprintf(d->net.name, sizeof(d->net.name), "ne2k_isa@%#x irq %u %s", NE2K_IOBASE, NE2K_IRQ,
           mode == NE2K_IRQ_MODE ? "irq" : "polled");
  if (mode == NE2K_IRQ_MODE) {
    /* Unmask the line before the card may raise it (an IOAPIC drops a masked edge). */
    int rc = isa_irq_attach(NE2K_IRQ, ne2k_irq, d);
    if (rc < 0) return rc;
  }
  unsigned long f = local_irq_save();
  int rc = ne2k_hw_init(d);
  local_irq_restore(f);
  if (rc < 0) {
    if (mode == NE2K_IRQ_MODE) isa_irq_detach(NE2K_IRQ);
    return rc;
  }
  d->opened = 1;
  *out = &d->net;
  return 0;
}

const struct ne2k_stats *ne2k_get_stats(void) { return &the_dev.stats; }

/* An open card is not probed again: the probe stops it. */
static int probe_count(void) { return the_dev.opened ? 1 : ne2k_probe(); }

static int open_index(unsigned index, struct net_dev **dev) {
  if (index != 0) return -XEN_ENODEV; /* one card, at 0x300 */
  char m[8];
  enum ne2k_mode mode = pvkvm_cmdline_get("ne2k.mode", m, sizeof(m)) >= 0 && strcmp(m, "irq") == 0 ? NE2K_IRQ_MODE : NE2K_POLLED;
  return ne2k_open(mode, dev);
}

const struct net_driver ne2k_net_driver = {.name = "ne2k", .probe = probe_count, .open = open_index, .wait_present = NULL};

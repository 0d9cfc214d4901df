/*
 * udpblast.c: the host reference for `bench net` — the UDP bulk sender/receiver the `network`
 * guest runs, as a Linux program, so the same workload can be measured between two host network
 * namespaces over veth (and against a guest from the host side).
 *
 * Usage:
 *   udpblast send ADDR PORT SIZE COUNT [PPS]   send COUNT datagrams of SIZE payload bytes, paced
 *                                              to PPS per second when given (0 = unpaced)
 *   udpblast recv PORT COUNT TIMEOUT_MS        receive until the end marker, COUNT datagrams, or
 *                                              TIMEOUT_MS of silence
 * The datagrams are the `network` guest's (domU-sdk/guests/network): a 16-byte big-endian header
 * (magic "PVNT", kind 0 = data / 1 = done, sequence number or — in the done marker — the number
 * sent, count), then filler. Both sides print the guest's `net: udp-send …` / `net: udp-recv …`
 * lines, so bench/net.mjs reads guests and this program alike.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x50564e54u
#define KIND_DATA 0u
#define KIND_DONE 1u
#define HDR 16
#define END_MARKERS 5

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what) {
  fprintf(stderr, "udpblast: %s: %s\n", what, strerror(errno));
  return 2;
}

static void put32(uint8_t *p, uint32_t v) {
  v = htonl(v);
  memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return ntohl(v);
}

static void stamp(uint8_t *buf, uint32_t kind, uint32_t seq, uint32_t count) {
  put32(buf, MAGIC);
  put32(buf + 4, kind);
  put32(buf + 8, seq);
  put32(buf + 12, count);
}

static int do_send(const char *addr, int port, int size, long count, long pps) {
  if (size < HDR || size > 65507) {
    fprintf(stderr, "udpblast: size must be 16..65507\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return die("socket");
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
    fprintf(stderr, "udpblast: bad address %s\n", addr);
    return 2;
  }
  if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) return die("connect");
  uint8_t *buf = calloc(1, (size_t)size);
  for (int i = HDR; i < size; i++) buf[i] = (uint8_t)i;
  long sent = 0, errors = 0;
  double t0 = now_s();
  for (long i = 0; i < count; i++) {
    if (pps > 0) {
      double due = t0 + (double)i / (double)pps;
      while (now_s() < due) { /* spin: sleeps are far coarser than the gaps */ }
    }
    stamp(buf, KIND_DATA, (uint32_t)i, (uint32_t)count);
    if (send(fd, buf, (size_t)size, 0) == size) sent++;
    else errors++;
  }
  double secs = now_s() - t0;
  for (int k = 0; k < END_MARKERS; k++) {
    stamp(buf, KIND_DONE, (uint32_t)sent, (uint32_t)count);
    send(fd, buf, HDR, 0);
    usleep(2000);
  }
  printf("net: udp-send sent=%ld errors=%ld bytes=%ld elapsed_us=%.0f pps=%.0f mbps=%.3f\n", sent, errors,
         sent * size, secs * 1e6, secs > 0 ? sent / secs : 0.0, secs > 0 ? (double)sent * size * 8 / secs / 1e6 : 0.0);
  return 0;
}

static int do_recv(int port, long count, int timeout_ms) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return die("socket");
  int rcvbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_ANY) };
  if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) return die("bind");
  printf("net: listening port=%d\n", port);
  fflush(stdout);
  uint8_t *seen = calloc((size_t)count + 1, 1);
  static uint8_t buf[65536];
  long received = 0, dup = 0, reordered = 0, bytes = 0, bad = 0, sent = count;
  long max_seq = -1;
  int marker = 0;
  double first = 0, last = 0;
  for (;;) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r = poll(&p, 1, timeout_ms);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      return die("poll");
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < HDR || get32(buf) != MAGIC) { bad++; continue; }
    uint32_t kind = get32(buf + 4), seq = get32(buf + 8);
    if (kind == KIND_DONE) {
      marker = 1;
      sent = seq;
      break;
    }
    if (kind != KIND_DATA || (long)seq >= count) { bad++; continue; }
    if (seen[seq]) { dup++; continue; }
    seen[seq] = 1;
    double t = now_s();
    if (received == 0) first = t;
    last = t;
    received++;
    bytes += n;
    if ((long)seq < max_seq) reordered++;
    else max_seq = seq;
    if (received == count) break;
  }
  double secs = last - first;
  printf("net: udp-recv received=%ld lost=%ld reordered=%ld duplicates=%ld bad=%ld sent=%ld marker=%d bytes=%ld "
         "elapsed_us=%.0f pps=%.0f mbps=%.3f\n",
         received, sent > received ? sent - received : 0, reordered, dup, bad, sent, marker, bytes, secs * 1e6,
         secs > 0 ? (double)(received - 1) / secs : 0.0, secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0.0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 6 && strcmp(argv[1], "send") == 0) {
    return do_send(argv[2], atoi(argv[3]), atoi(argv[4]), atol(argv[5]), argc > 6 ? atol(argv[6]) : 0);
  }
  if (argc == 5 && strcmp(argv[1], "recv") == 0) {
    long count = atol(argv[3]);
    if (count < 1 || count > 100000000) {
      fprintf(stderr, "udpblast: count must be 1..100000000\n");
      return 2;
    }
    return do_recv(atoi(argv[2]), count, atoi(argv[4]));
  }
  fprintf(stderr, "usage: udpblast send ADDR PORT SIZE COUNT [PPS] | udpblast recv PORT COUNT TIMEOUT_MS\n");
  return 2;
}

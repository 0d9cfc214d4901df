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
 * Every datagram starts with a 32-bit sequence number (network order) and the magic "PVKB"; the
 * sender ends with a few end markers (sequence 0xffffffff). Both print one line of key=value pairs
 * starting with "net:", the format bench/net.mjs reads from guests too.
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

#define END_SEQ 0xffffffffu
#define END_MARKERS 8

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what) {
  fprintf(stderr, "udpblast: %s: %s\n", what, strerror(errno));
  return 2;
}

static void stamp(uint8_t *buf, uint32_t seq) {
  uint32_t n = htonl(seq);
  memcpy(buf, &n, 4);
  memcpy(buf + 4, "PVKB", 4);
}

static int do_send(const char *addr, int port, int size, long count, long pps) {
  if (size < 8 || size > 65507) {
    fprintf(stderr, "udpblast: size must be 8..65507\n");
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
  long sent = 0, errors = 0;
  double t0 = now_s();
  for (long i = 0; i < count; i++) {
    if (pps > 0) {
      double due = t0 + (double)i / (double)pps;
      while (now_s() < due) { /* spin: sleeps are far coarser than the gaps */ }
    }
    stamp(buf, (uint32_t)i);
    if (send(fd, buf, (size_t)size, 0) == size) sent++;
    else errors++;
  }
  double secs = now_s() - t0;
  for (int k = 0; k < END_MARKERS; k++) {
    stamp(buf, END_SEQ);
    send(fd, buf, 8, 0);
    usleep(2000);
  }
  printf("net: sent=%ld errors=%ld secs=%.6f mbps=%.3f pps=%.0f\n", sent, errors, secs,
         secs > 0 ? (double)sent * size * 8 / secs / 1e6 : 0.0, secs > 0 ? sent / secs : 0.0);
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
  long received = 0, dup = 0, reordered = 0, bytes = 0, bad = 0;
  long max_seq = -1;
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
    if (n < 8 || memcmp(buf + 4, "PVKB", 4) != 0) { bad++; continue; }
    uint32_t seq;
    memcpy(&seq, buf, 4);
    seq = ntohl(seq);
    if (seq == END_SEQ) {
      if (received > 0) break;
      continue;
    }
    if ((long)seq >= count) { bad++; continue; }
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
  printf("net: received=%ld lost=%ld reordered=%ld duplicates=%ld bad=%ld secs=%.6f mbps=%.3f pps=%.0f\n",
         received, count - received, reordered, dup, bad, secs, secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0.0,
         secs > 0 ? (double)(received - 1) / secs : 0.0);
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

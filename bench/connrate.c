/*
 * connrate: new proxied connections per second on loopback, and the server
 * they end at. Built by bench/connrate.py with `cc -O2`; Linux only (epoll).
 *
 *   connrate serve
 *       listen on 127.0.0.1 (a free port, printed on stdout as "port N");
 *       on every accepted connection read one byte, answer with one byte
 *       and close.
 *   connrate run TARGET_PORT [-s SOCKS_PORT] [-c CONCURRENT] [-t SECONDS] [-n MAX]
 *       keep CONCURRENT connections in flight, each: connect (to the SOCKS5
 *       proxy, or straight to the target without -s), SOCKS5 greeting, wait
 *       for the method reply, CONNECT 127.0.0.1:TARGET_PORT, wait for the
 *       reply, send a one-byte request, read the one-byte answer, close (the
 *       client speaks first, like HTTP: shadowsocks' ss-local waits up to
 *       ~50 ms for client data before it dials its server, which a
 *       server-speaks-first exchange would measure instead of the relay).
 *       A finished one is replaced at
 *       once until SECONDS have passed or MAX have finished. Prints one line:
 *       "ok=N errors=E seconds=S rate=R p50_us=A p99_us=B max_us=C
 *        err_connect=.. err_refused=.. err_eof=.. err_timeout=.."
 *
 * Both are single-threaded and event-driven (edge-triggered epoll), so they
 * cost little CPU next to the proxy under test; the direct run (no proxy)
 * shows how far they go on their own.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_CONCURRENT = 1024, TIMEOUT_US = 5000000 };

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int serve(void) {
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(ls, (struct sockaddr*)&a, sizeof a) != 0 || listen(ls, 4096) != 0 ||
      getsockname(ls, (struct sockaddr*)&a, &len) != 0) {
    perror("connrate serve");
    return 1;
  }
  printf("port %u\n", ntohs(a.sin_port));
  fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        for (;;) {
          int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
          if (c < 0) break;  // EAGAIN: drained; anything else: try again on the next wakeup
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      // The request byte (or EOF): answer with one byte and close. Reading
      // first means the close sends FIN, not RST for unread data.
      char b;
      ssize_t r = recv(fd, &b, 1, 0);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (r == 1) (void)send(fd, "x", 1, MSG_NOSIGNAL);
      close(fd);
    }
  }
}

enum State { CONNECTING, GREETING, REPLY, PAYLOAD };

struct Conn {
  int fd;
  enum State state;
  uint64_t started;
  unsigned char buf[64];
  size_t have;
};

struct Run {
  int ep;
  int socks_port;  // 0: straight to the target
  int target_port;
  uint64_t ok, err_connect, err_refused, err_eof, err_timeout;
  uint32_t* lat;  // microseconds of each finished connection
  uint64_t max_n;
  uint64_t started;  // connections begun
  uint64_t deadline;
};

static int open_one(struct Run* r, struct Conn* c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) return -1;
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  a.sin_port = htons((uint16_t)(r->socks_port ? r->socks_port : r->target_port));
  c->state = CONNECTING;
  c->have = 0;
  c->started = now_us();
  r->started++;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
  epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev);
  if (connect(c->fd, (struct sockaddr*)&a, sizeof a) != 0 && errno != EINPROGRESS) return -1;
  return 0;
}

static void finish(struct Run* r, struct Conn* c, uint64_t* counter) {
  if (counter) {
    (*counter)++;
  } else {
    uint64_t us = now_us() - c->started;
    if (r->ok < r->max_n) r->lat[r->ok] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    r->ok++;
  }
  close(c->fd);  // also removes it from the epoll set
  c->fd = -1;
}

// Reads what is there into c->buf (up to `want` bytes in total); -1 on EOF/error.
static int fill(struct Conn* c, size_t want) {
  while (c->have < want) {
    ssize_t n = recv(c->fd, c->buf + c->have, want - c->have, 0);
    if (n > 0) {
      c->have += (size_t)n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return -1;
  }
  return 0;
}

// Moves the connection as far as it can go without blocking.
static void advance(struct Run* r, struct Conn* c) {
  for (;;) {
    switch (c->state) {
      case CONNECTING: {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) return finish(r, c, &r->err_connect);
        // Not connected yet: no error, but the peer address is not set.
        struct sockaddr_in peer;
        len = sizeof peer;
        if (getpeername(c->fd, (struct sockaddr*)&peer, &len) != 0) return;
        if (!r->socks_port) {
          if (send(c->fd, "q", 1, MSG_NOSIGNAL) != 1) return finish(r, c, &r->err_connect);
          c->state = PAYLOAD;
          break;
        }
        static const unsigned char greeting[3] = {5, 1, 0};
        if (send(c->fd, greeting, sizeof greeting, MSG_NOSIGNAL) != sizeof greeting)
          return finish(r, c, &r->err_connect);
        c->state = GREETING;
        break;
      }
      case GREETING:
        if (fill(c, 2) < 0) return finish(r, c, &r->err_eof);
        if (c->have < 2) return;
        if (c->buf[0] != 5 || c->buf[1] != 0) return finish(r, c, &r->err_refused);
        {
          unsigned char req[10] = {5, 1, 0, 1, 127, 0, 0, 1, (unsigned char)(r->target_port >> 8),
                                   (unsigned char)(r->target_port & 0xff)};
          if (send(c->fd, req, sizeof req, MSG_NOSIGNAL) != sizeof req) return finish(r, c, &r->err_eof);
        }
        c->have = 0;
        c->state = REPLY;
        break;
      case REPLY: {
        if (fill(c, 5) < 0) return finish(r, c, &r->err_eof);
        if (c->have < 5) return;
        if (c->buf[1] != 0) return finish(r, c, &r->err_refused);
        size_t need = c->buf[3] == 1 ? 10 : c->buf[3] == 4 ? 22 : (size_t)c->buf[4] + 7;
        if (need > sizeof c->buf) return finish(r, c, &r->err_refused);
        // Only the reply; then the request byte, and PAYLOAD reads the answer.
        if (fill(c, need) < 0) return finish(r, c, &r->err_eof);
        if (c->have < need) return;
        if (send(c->fd, "q", 1, MSG_NOSIGNAL) != 1) return finish(r, c, &r->err_eof);
        c->have = 0;
        c->state = PAYLOAD;
        break;
      }
      case PAYLOAD:
        if (fill(c, 1) < 0) return finish(r, c, &r->err_eof);
        if (c->have < 1) return;
        return finish(r, c, NULL);
    }
  }
}

static int cmp_u32(const void* a, const void* b) {
  uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
  return x < y ? -1 : x > y;
}

static int run(int argc, char** argv) {
  struct Run r = {0};
  int concurrent = 16;
  double seconds = 5;
  r.max_n = 200000;
  r.target_port = atoi(argv[2]);
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-s")) r.socks_port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-c")) concurrent = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-t")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-n")) r.max_n = strtoull(argv[i + 1], NULL, 10);
    else {
      fprintf(stderr, "connrate: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (concurrent < 1 || concurrent > MAX_CONCURRENT || seconds <= 0 || r.max_n < 1 || r.target_port <= 0) {
    fprintf(stderr, "connrate: bad arguments\n");
    return 2;
  }
  r.lat = calloc(r.max_n, sizeof *r.lat);
  static struct Conn conns[MAX_CONCURRENT];
  r.ep = epoll_create1(0);
  uint64_t t0 = now_us();
  r.deadline = t0 + (uint64_t)(seconds * 1e6);
  int live = 0;
  for (int i = 0; i < concurrent; i++) {
    conns[i].fd = -1;
    if (open_one(&r, &conns[i]) != 0) finish(&r, &conns[i], &r.err_connect);
    else live++;
  }
  struct epoll_event evs[MAX_CONCURRENT];
  uint64_t last_sweep = t0;
  for (;;) {
    uint64_t now = now_us();
    if (live == 0 && (now >= r.deadline || r.started >= r.max_n)) break;
    int n = epoll_wait(r.ep, evs, MAX_CONCURRENT, 100);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; i++) advance(&r, evs[i].data.ptr);
    now = now_us();
    if (now - last_sweep > 100000) {  // a connection stuck longer than TIMEOUT_US counts as an error
      last_sweep = now;
      for (int i = 0; i < concurrent; i++)
        if (conns[i].fd >= 0 && now - conns[i].started > TIMEOUT_US) finish(&r, &conns[i], &r.err_timeout);
    }
    // Replace finished connections while time and count allow. On loopback
    // a whole direct connection can finish inside advance(), so refill a
    // slot until one stays in flight.
    live = 0;
    for (int i = 0; i < concurrent; i++) {
      while (conns[i].fd < 0 && now_us() < r.deadline && r.started < r.max_n) {
        if (open_one(&r, &conns[i]) != 0) {
          finish(&r, &conns[i], &r.err_connect);
          break;  // try again after the next wait rather than spin on an error
        }
        advance(&r, &conns[i]);
      }
      if (conns[i].fd >= 0) live++;
    }
  }
  double secs = (double)(now_us() - t0) / 1e6;
  uint64_t kept = r.ok < r.max_n ? r.ok : r.max_n;
  qsort(r.lat, kept, sizeof *r.lat, cmp_u32);
  uint32_t p50 = kept ? r.lat[kept / 2] : 0, p99 = kept ? r.lat[kept * 99 / 100] : 0, mx = kept ? r.lat[kept - 1] : 0;
  uint64_t errors = r.err_connect + r.err_refused + r.err_eof + r.err_timeout;
  printf("ok=%llu errors=%llu seconds=%.3f rate=%.1f p50_us=%u p99_us=%u max_us=%u err_connect=%llu err_refused=%llu "
         "err_eof=%llu err_timeout=%llu\n",
         (unsigned long long)r.ok, (unsigned long long)errors, secs, (double)r.ok / secs, p50, p99, mx,
         (unsigned long long)r.err_connect, (unsigned long long)r.err_refused, (unsigned long long)r.err_eof,
         (unsigned long long)r.err_timeout);
  free(r.lat);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 2 && !strcmp(argv[1], "serve")) return serve();
  if (argc >= 3 && !strcmp(argv[1], "run")) return run(argc, argv);
  fprintf(stderr, "usage: connrate serve | connrate run TARGET_PORT [-s SOCKS_PORT] [-c N] [-t SECONDS] [-n MAX]\n");
  return 2;
}

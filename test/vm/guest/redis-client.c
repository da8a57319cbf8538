/* The comparison benchmark's real server: Debian's redis-server, driven by this client.
 *
 *   redis-client SOCKET REDIS_PID KEYS VALUE_BYTES THETA_X100 SHIFT_S SEED
 *
 * Loads KEYS string values of VALUE_BYTES each (SET, pipelined), moves every page of Redis to
 * node 1 (migrate_pages: the worst start, as the other workloads have), then sends GETs whose
 * keys are Zipfian (theta) over the key space; at SHIFT_S seconds the ranks are reshuffled (a
 * new popular set).
 *
 * The ground truth is the client's: it knows how often it asks for each key, and it finds where
 * Redis keeps each value by reading Redis's memory (/proc/PID/mem) for the marker every value
 * starts with. A GET copies the whole value into the reply, so every byte of a value is read
 * once per GET. A page's share is the share of all value bytes read that lie on it; the bytes
 * Redis reads besides the values (its hash table, key names, object headers, buffers: a few %
 * of its memory) are not counted.
 *
 * Prints one JSON line, {"pid":REDIS_PID,"size":BYTES,"keys":N,"ranges":[[addr,pages],...],
 * "phases":[shares, shares]} (shares as compare-workload prints them, over the pages of the
 * ranges in order), then {"t":S,"ops":N} once a second (GETs answered in that second).
 *
 * No mechanism can place a value before anyone asks for it, and at the guest's rate of GETs a
 * phase does not ask for every value that matters. So the client also knows when it first asked
 * for each key: on SIGUSR1 it writes ASKED_FILE, a double pair per key (the value's address, the
 * seconds from START_MS at which it was first asked, or -1), and prints {"asked":ASKED_FILE,
 * "startMs":START_MS}, START_MS being the wall-clock milliseconds at which the GETs began. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "bench-common.h"

#define PAGE 4096UL
#define DEPTH 16 /* GETs per pipelined write */
#define MARK "\001tierd-key:"
#define MARK_LEN 11
#define KEY_DIGITS 8
#define ASKED_FILE "/tmp/redis-asked.bin"

static volatile sig_atomic_t dump_asked;
static void on_usr1(int sig) { (void)sig; dump_asked = 1; }

static void die(const char *what) { perror(what); exit(1); }

static int connect_unix(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  for (int i = 0; i < 600; i++) { /* Redis may still be starting: 60 s */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
    close(fd);
    usleep(100000);
  }
  die("connect to redis");
  return -1;
}
static void send_all(int fd, const char *b, size_t n) {
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0) { if (errno == EINTR) continue; die("write to redis"); }
    b += w; n -= w;
  }
}
/* read exactly n bytes of replies; the first byte of each reply is checked by the caller */
static void recv_all(int fd, char *b, size_t n) {
  while (n) {
    ssize_t r = read(fd, b, n);
    if (r <= 0) { if (r < 0 && errno == EINTR) continue; die("read from redis"); }
    b += r; n -= r;
  }
}

static void load(int fd, unsigned long keys, unsigned long vbytes) {
  char *value = malloc(vbytes);
  for (unsigned long i = 0; i < vbytes; i++) value[i] = 'a' + i % 26;
  size_t cmd_max = 64 + vbytes;
  char *buf = malloc(DEPTH * cmd_max), reply[DEPTH * 5];
  for (unsigned long k = 0; k < keys; k += DEPTH) {
    size_t n = 0, c = keys - k < DEPTH ? keys - k : DEPTH;
    for (size_t j = 0; j < c; j++) {
      snprintf(value, vbytes, MARK "%0*lu", KEY_DIGITS, k + j);
      value[MARK_LEN + KEY_DIGITS] = '\002';
      n += sprintf(buf + n, "*3\r\n$3\r\nSET\r\n$11\r\ntk:%08lu\r\n$%lu\r\n", k + j, vbytes);
      memcpy(buf + n, value, vbytes);
      n += vbytes;
      memcpy(buf + n, "\r\n", 2);
      n += 2;
    }
    send_all(fd, buf, n);
    recv_all(fd, reply, c * 5); /* "+OK\r\n" each */
    if (reply[0] != '+') { fprintf(stderr, "SET refused: %.40s\n", reply); exit(1); }
  }
  free(buf);
  free(value);
}

/* every page of the process on node 0 to node 1 */
static void to_node1(int pid) {
  unsigned long from = 1, to = 2;
  if (syscall(SYS_migrate_pages, pid, 8 * sizeof(unsigned long), &from, &to) < 0)
    perror("migrate_pages to node 1 (left where it is)"); /* one node: still runs */
}

/* where each value starts: the marker inside an sds of the value's length (sdshdr16: len, alloc,
 * flags 2), so that stale copies in Redis's query and reply buffers are not taken for it */
static void find_values(int pid, unsigned long keys, unsigned long vbytes, unsigned long *at) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  FILE *maps = fopen(path, "r");
  if (!maps) die("open redis maps");
  snprintf(path, sizeof path, "/proc/%d/mem", pid);
  int mem = open(path, O_RDONLY);
  if (mem < 0) die("open redis mem");
  const size_t chunk = 4 << 20, over = 64;
  char *buf = malloc(chunk + 2 * over), line[512];
  unsigned long found = 0;
  while (fgets(line, sizeof line, maps)) {
    unsigned long lo, hi;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || perms[1] != 'w') continue;
    for (unsigned long a = lo; a < hi; a += chunk) {
      /* from a little before the chunk (a header there) to a little after (a marker across its end) */
      unsigned long from = a - lo < over ? lo : a - over, to = hi - a < chunk + over ? hi : a + chunk + over;
      ssize_t got = pread(mem, buf, to - from, from);
      if (got <= 0) break;
      for (char *p = buf; (p = memmem(p, buf + got - p, MARK, MARK_LEN)) != NULL; p++) {
        unsigned long addr = from + (p - buf);
        if (addr < a || addr >= a + chunk || p - buf < 5 || p + MARK_LEN + KEY_DIGITS >= buf + got) continue;
        unsigned short len;
        memcpy(&len, p - 5, 2);
        if (len != vbytes || (p[-1] & 7) != 2 || p[MARK_LEN + KEY_DIGITS] != '\002') continue;
        unsigned long k = strtoul(p + MARK_LEN, NULL, 10);
        if (k < keys && !at[k]) { at[k] = addr; found++; }
      }
    }
  }
  fclose(maps);
  close(mem);
  free(buf);
  if (found != keys) { fprintf(stderr, "found %lu of %lu values in redis's memory\n", found, keys); exit(1); }
}

struct page_share { unsigned long page; double share; };
static int by_page(const void *a, const void *b) {
  unsigned long x = ((const struct page_share *)a)->page, y = ((const struct page_share *)b)->page;
  return x < y ? -1 : x > y;
}

/* per page the share of value bytes read, for each phase; pages sorted, ranges of adjacent pages */
static void print_layout(int pid, unsigned long keys, unsigned long vbytes, const unsigned long *at,
                         double *share[2]) {
  unsigned long per = vbytes / PAGE + 2, n = 0;
  struct page_share *ps[2] = {malloc(keys * per * sizeof **ps), malloc(keys * per * sizeof **ps)};
  for (unsigned long k = 0; k < keys; k++) {
    for (unsigned long a = at[k]; a < at[k] + vbytes;) {
      unsigned long pg = a / PAGE, end = (pg + 1) * PAGE < at[k] + vbytes ? (pg + 1) * PAGE : at[k] + vbytes;
      for (int ph = 0; ph < 2; ph++) ps[ph][n] = (struct page_share){pg, share[ph][k] * (end - a) / vbytes};
      n++;
      a = end;
    }
  }
  for (int ph = 0; ph < 2; ph++) qsort(ps[ph], n, sizeof **ps, by_page);
  /* merge the pieces of one page (two values that share it) */
  unsigned long m = 0;
  for (unsigned long i = 0; i < n; i++) {
    if (m && ps[0][m - 1].page == ps[0][i].page) {
      ps[0][m - 1].share += ps[0][i].share;
      ps[1][m - 1].share += ps[1][i].share;
    } else { ps[0][m] = ps[0][i]; ps[1][m] = ps[1][i]; m++; }
  }
  printf("{\"pid\":%d,\"size\":%lu,\"keys\":%lu,\"ranges\":[", pid, m * PAGE, keys);
  for (unsigned long i = 0; i < m;) {
    unsigned long j = i + 1;
    while (j < m && ps[0][j].page == ps[0][j - 1].page + 1) j++;
    printf("%s[%lu,%lu]", i ? "," : "", ps[0][i].page * PAGE, j - i);
    i = j;
  }
  printf("],\"phases\":[");
  for (int ph = 0; ph < 2; ph++) {
    printf("%s[", ph ? "," : "");
    for (unsigned long i = 0; i < m;) {
      unsigned long j = i;
      while (j < m && ps[ph][j].share == ps[ph][i].share) j++;
      printf("%s[%lu,%.6e]", i ? "," : "", j - i, ps[ph][i].share);
      i = j;
    }
    printf("]");
  }
  printf("]}\n");
  fflush(stdout);
}

/* each value's address and the time it was first asked for, for compare.mjs's "best of what was asked" */
static void write_asked(unsigned long keys, const unsigned long *at, const float *first, double start_ms) {
  FILE *f = fopen(ASKED_FILE, "wb");
  if (!f) die("open " ASKED_FILE);
  for (unsigned long k = 0; k < keys; k++) {
    double pair[2] = {(double)at[k], first[k]};
    if (fwrite(pair, sizeof pair, 1, f) != 1) die("write " ASKED_FILE);
  }
  if (fclose(f) != 0) die("close " ASKED_FILE);
  printf("{\"asked\":\"%s\",\"startMs\":%.0f}\n", ASKED_FILE, start_ms);
  fflush(stdout);
}

static double wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void get_loop(int fd, unsigned long keys, unsigned long vbytes, unsigned long *idx[2],
                     const double *cdf, double shift_s, const unsigned long *at) {
  char cmd[DEPTH * 40], hdr[16];
  size_t reply = (size_t)snprintf(hdr, sizeof hdr, "$%lu\r\n", vbytes) + vbytes + 2;
  char *in = malloc(DEPTH * reply);
  float *first = malloc(keys * sizeof *first);
  for (unsigned long i = 0; i < keys; i++) first[i] = -1;
  double start_ms = wall_ms();
  struct ticker k = ticker_start(shift_s);
  for (int phase = 0;;) {
    size_t n = 0;
    float t = (float)(now() - k.t0);
    for (int j = 0; j < DEPTH; j++) {
      unsigned long key = idx[phase][zipf_rank(cdf, keys)];
      if (first[key] < 0) first[key] = t;
      n += sprintf(cmd + n, "*2\r\n$3\r\nGET\r\n$11\r\ntk:%08lu\r\n", key);
    }
    send_all(fd, cmd, n);
    recv_all(fd, in, DEPTH * reply);
    if (in[0] != '$') { fprintf(stderr, "GET answered %.40s\n", in); exit(1); }
    phase = tick(&k, DEPTH);
    if (dump_asked) {
      dump_asked = 0;
      write_asked(keys, at, first, start_ms);
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 8) { fprintf(stderr, "usage: redis-client SOCKET REDIS_PID KEYS VALUE_BYTES THETA_X100 SHIFT_S SEED\n"); return 2; }
  int pid = atoi(argv[2]);
  unsigned long keys = strtoul(argv[3], 0, 0), vbytes = strtoul(argv[4], 0, 0);
  double theta = strtoul(argv[5], 0, 0) / 100.0, shift_s = atof(argv[6]);
  seed_rng(strtoul(argv[7], 0, 0));
  if (keys < 2 || keys >= 100000000UL || vbytes < 256 || vbytes >= 65536) { fprintf(stderr, "KEYS 2..99999999, VALUE_BYTES 256..65535\n"); return 2; }
  signal(SIGUSR1, on_usr1);
  int fd = connect_unix(argv[1]);
  load(fd, keys, vbytes);
  to_node1(pid);
  unsigned long *at = calloc(keys, sizeof *at);
  find_values(pid, keys, vbytes, at);
  /* Zipfian ranks, shuffled over the keys, a new shuffle for the second phase */
  double *cdf = malloc(keys * sizeof *cdf), *share[2];
  unsigned long *idx[2];
  for (int ph = 0; ph < 2; ph++) {
    idx[ph] = malloc(keys * sizeof **idx);
    share[ph] = calloc(keys, sizeof **share);
  }
  zipf_setup(keys, theta, cdf, idx, share);
  print_layout(pid, keys, vbytes, at, share);
  get_loop(fd, keys, vbytes, idx, cdf, shift_s, at);
  return 0;
}

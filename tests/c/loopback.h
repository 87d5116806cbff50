/* A loopback server for the transport's C tests: a socket listening on 127.0.0.1 (a free
 * port), served by a forked process in a process group of its own, so that stopping it
 * also stops whatever it forked (a process per connection). */
#ifndef ALEPHANT_TEST_LOOPBACK_H
#define ALEPHANT_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Forks a process that runs serve(listening socket) (which must not return) and writes
 * "http://127.0.0.1:PORT" into base. Returns the server's pid, or -1 (reported). */
static pid_t loopback_server(void (*serve)(int ls), char *base, size_t cap) {
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  pid_t pid;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 16) ||
      getsockname(ls, (struct sockaddr *)&a, &alen)) {
    perror("loopback server");
    if (ls >= 0) close(ls);
    return -1;
  }
  pid = fork();
  if (pid < 0) {
    perror("fork");
    close(ls);
    return -1;
  }
  if (pid == 0) {
    setpgid(0, 0);
    serve(ls);
    _exit(1);
  }
  setpgid(pid, pid); /* also here: the parent may stop it before the child ran */
  close(ls);
  snprintf(base, cap, "http://127.0.0.1:%d", ntohs(a.sin_port));
  return pid;
}

/* Reads the next request head of a kept-alive connection into buf, which holds *len
 * bytes (what a read brought beyond the last request stays there): returns the head's
 * length, its blank line included, or 0 when the client closed the connection. Exits
 * the server when a head does not fit in cap. */
static inline size_t loopback_read_head(int c, char *buf, size_t cap, size_t *len) {
  size_t i = 0;
  for (;;) {
    ssize_t r;
    for (; i + 4 <= *len; i++)
      if (memcmp(buf + i, "\r\n\r\n", 4) == 0) return i + 4;
    if (*len == cap) _exit(1);
    r = read(c, buf + *len, cap - *len);
    if (r <= 0) return 0;
    *len += (size_t)r;
  }
}

/* Drops the first n bytes of buf (a request answered). */
static inline void loopback_consume(char *buf, size_t *len, size_t n) {
  memmove(buf, buf + n, *len - n);
  *len -= n;
}

/* Answers 200 with blen bytes of body; exits the server when it cannot. */
static inline void loopback_answer(int c, const char *body, size_t blen) {
  char head[128];
  snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", blen);
  if (write(c, head, strlen(head)) < 0 || write(c, body, blen) < 0) _exit(1);
}

/* Serves the requests of one kept-alive connection: reply(n, head, hlen, out, cap) writes
 * the body answering the connection's n-th request head (1, 2, ...) into out and returns
 * its length, or -1 to close the connection without an answer. Returns when the client
 * closes; exits the server when a body does not fit. */
static inline void loopback_serve_heads(int c, int (*reply)(int n, const char *head, size_t hlen, char *out,
                                                            size_t cap)) {
  char buf[16384], out[17000];
  size_t len = 0, hlen;
  int n = 0;
  while ((hlen = loopback_read_head(c, buf, sizeof buf, &len)) != 0) {
    int blen = reply(++n, buf, hlen, out, sizeof out);
    if (blen < 0) return;
    if ((size_t)blen >= sizeof out) _exit(1);
    loopback_answer(c, out, (size_t)blen);
    loopback_consume(buf, &len, hlen);
  }
}

/* A server's loop that serves one connection at a time: serve_connection(c) until it
 * returns, then the next. */
static inline void loopback_serve_each(int ls, void (*serve_connection)(int c)) {
  for (;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0) _exit(1);
    serve_connection(c);
    close(c);
  }
}

/* Stops the server and everything it forked. */
static void loopback_stop(pid_t pid) {
  int status;
  kill(-pid, SIGKILL);
  waitpid(pid, &status, 0);
}

#endif

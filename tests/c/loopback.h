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

/* Stops the server and everything it forked. */
static void loopback_stop(pid_t pid) {
  int status;
  kill(-pid, SIGKILL);
  waitpid(pid, &status, 0);
}

#endif

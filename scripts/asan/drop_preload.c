/* Preloaded after the sanitizer runtimes into the one process under test (lua5.4):
 * removes LD_PRELOAD from its environment, so that the processes it starts (sh, the
 * emulator's bash, nginx and openssl) run without sanitizers and report nothing of
 * their own. Built by scripts/check-asan.sh. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

__attribute__((constructor)) static void drop_preload(void) { unsetenv("LD_PRELOAD"); }

/* The baseline the SDK is measured against: a plain C libcurl loop that reuses one
 * easy handle (so one keep-alive connection), sends the same headers as the SDK and
 * reads each body into memory, without decoding it. bench/run.sh builds it with
 * gcc -O2 and libcurl.
 *
 *   curl_calls URL CALLS          (token and workspace id from BENCH_TOKEN / BENCH_WORKSPACE;
 *                                  for https, BENCH_CAFILE names the CA to trust)
 *
 * Prints one line: "calls=N seconds=S bytes=B" (wall time of the CALLS requests). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  char *data;
  size_t len, cap;
} buffer;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
  buffer *b = userdata;
  size_t n = size * nmemb;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *p;
    while (cap < b->len + n) cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL) return 0; /* libcurl reports CURLE_WRITE_ERROR */
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  return n;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "Name: value" into the list; NULL on allocation failure. */
static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value) {
  char line[1024];
  struct curl_slist *next;
  snprintf(line, sizeof line, "%s: %s", name, value);
  next = curl_slist_append(list, line);
  if (next == NULL) curl_slist_free_all(list);
  return next;
}

int main(int argc, char **argv) {
  const char *token = getenv("BENCH_TOKEN"), *workspace = getenv("BENCH_WORKSPACE");
  const char *cafile = getenv("BENCH_CAFILE");
  char auth[512];
  struct curl_slist *headers = NULL;
  buffer body = {NULL, 0, 0};
  CURL *easy;
  long calls, i, status = 0;
  unsigned long long total = 0;
  double t0, elapsed;
  int rc = 1;

  if (argc != 3 || (calls = strtol(argv[2], NULL, 10)) <= 0 || !token || !workspace) {
    fprintf(stderr, "usage: BENCH_TOKEN=... BENCH_WORKSPACE=... curl_calls URL CALLS\n");
    return 2;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (easy = curl_easy_init()) == NULL) {
    fprintf(stderr, "curl_calls: libcurl initialisation failed\n");
    return 1;
  }
  snprintf(auth, sizeof auth, "Bearer %s", token);
  if (!(headers = add_header(headers, "Accept", "application/json")) ||
      !(headers = add_header(headers, "Authorization", auth)) ||
      !(headers = add_header(headers, "X-Workspace-Id", workspace))) {
    fprintf(stderr, "curl_calls: out of memory\n");
    goto done;
  }
  curl_easy_setopt(easy, CURLOPT_URL, argv[1]);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "bench-libcurl");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  if (cafile) curl_easy_setopt(easy, CURLOPT_CAINFO, cafile);

  t0 = now();
  for (i = 0; i < calls; i++) {
    CURLcode res;
    body.len = 0;
    res = curl_easy_perform(easy);
    if (res != CURLE_OK) {
      fprintf(stderr, "curl_calls: call %ld: %s\n", i + 1, curl_easy_strerror(res));
      goto done;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || body.len == 0) {
      fprintf(stderr, "curl_calls: call %ld: HTTP %ld, %zu bytes\n", i + 1, status, body.len);
      goto done;
    }
    total += body.len;
  }
  elapsed = now() - t0;
  printf("calls=%ld seconds=%.6f bytes=%llu\n", calls, elapsed, total);
  rc = 0;
done:
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  free(body.data);
  curl_global_cleanup();
  return rc;
}

#include "closest.h"

#include <string.h>

static unsigned char fold(char c) {
  unsigned char u = (unsigned char)c;
  return (u >= 'A' && u <= 'Z') ? (unsigned char)(u + 32) : u;
}

static size_t min3(size_t a, size_t b, size_t c) {
  size_t m = a < b ? a : b;
  return m < c ? m : c;
}

/* Optimal string alignment distance over three rolling rows. */
size_t al_edit_distance(const char *a, size_t an, const char *b, size_t bn) {
  size_t rows[3][AL_CLOSEST_MAX_LEN + 1], i, j;
  size_t *pp, *prev, *cur;
  if (an > AL_CLOSEST_MAX_LEN || bn > AL_CLOSEST_MAX_LEN) return AL_FAR;
  for (j = 0; j <= bn; j++) rows[1][j] = j;
  pp = rows[0];
  prev = rows[1];
  cur = rows[2];
  for (i = 1; i <= an; i++) {
    size_t *t;
    cur[0] = i;
    for (j = 1; j <= bn; j++) {
      size_t cost = fold(a[i - 1]) != fold(b[j - 1]);
      cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1]) &&
          pp[j - 2] + 1 < cur[j])
        cur[j] = pp[j - 2] + 1;
    }
    t = pp;
    pp = prev;
    prev = cur;
    cur = t;
  }
  return prev[bn];
}

int al_close_enough(size_t d, size_t n, size_t max) { return d <= max && d * 2 < n; }

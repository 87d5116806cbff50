/* "Did you mean": the one edit distance of the project (unknown parameters and
 * endpoints in the core; option names, methods, groups and CLI words through
 * core.closest). */
#ifndef ALEPHANT_CORE_CLOSEST_H
#define ALEPHANT_CORE_CLOSEST_H

#include <stddef.h>

/* Longest name compared; longer ones are at distance AL_FAR from everything. */
#define AL_CLOSEST_MAX_LEN 64
#define AL_FAR 99

/* Edit distance (insert, delete, substitute, swap two neighbours: "usgae" is 1 from
 * "usage"), ASCII letters compared without case. */
size_t al_edit_distance(const char *a, size_t an, const char *b, size_t bn);

/* Whether a candidate at distance d from a word of n bytes is worth suggesting:
 * d <= max, and fewer than half of the word changed. */
int al_close_enough(size_t d, size_t n, size_t max);

#endif

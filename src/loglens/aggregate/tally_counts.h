/* The tables of the panels' tally (tally_counts.c) and what the module (_tally.c) asks of them. */
#ifndef LOGLENS_TALLY_COUNTS_H
#define LOGLENS_TALLY_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "../parsing/arrow_c.h"

enum { S_PATH, S_REFERER, S_CLIENT, S_AGENT, S_USER, S_VHOST, S_METHOD, S_SECTION, N_STRINGS };
enum {
    G_PATHS, G_REFERRERS, G_CLIENTS, G_AGENTS, G_HOURS, G_STATUS, G_USERS, G_VHOSTS, G_METHODS,
    G_SECTIONS, G_SECTION_ERRORS, G_DAYS, N_GROUPS
};
/* Each grouping's string column; -1: its key is a number. */
extern const int GROUP_STRING[N_GROUPS];
/* The multiplier of the agent's hash in a visitor's (client, agent) hash, as in aggregate/tally.py. */
#define VISITOR_MIX UINT64_C(0x9E3779B97F4A7C15)

/* One key's sums; the layout tally.py reads (ENTRY). */
typedef struct {
    uint64_t key;
    uint32_t part;
    uint32_t extra;
    uint32_t used;
    uint32_t length;
    int64_t hits;
    int64_t bytes;
    int64_t timed;
    double served;
    int64_t text; /* the key's text in the arena; -1: a number */
} Entry; /* one cache line, and the tables are aligned to them: a probe reads one line */

typedef struct {
    Entry *slots;
    size_t mask;
    size_t count;
} Table;

/* Every grouping's table and the text of their keys. */
typedef struct {
    Table tables[N_GROUPS];
    char *arena;
    size_t arena_used;
    size_t arena_size;
    uint64_t scatter; /* odd; where a key lands */
} Counts;

/* Empty tables (the first call, and after a take); 0 when out of memory. */
int counts_reset(Counts *counts);
/* Free everything held. */
void counts_clear(Counts *counts);
/* Whether `schema` is a struct of the columns a tally reads, each of its format. */
int counts_readable(const struct ArrowSchema *schema);
/* Whether a chunk has the layout `counts_readable` promised. */
int counts_well_formed(const struct ArrowArray *chunk);
/* Count every record of a chunk; -1 when out of memory, -2 when a string view is not one. */
int counts_chunk(Counts *counts, const struct ArrowArray *chunk, uint32_t part, uint32_t batch);

#endif

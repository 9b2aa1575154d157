/* SPDX-License-Identifier: MIT */
/*
 * What the model-based tests (t_model.c, t_model_rr.c) share:
 *
 *  - the operation log: every worker process appends one line per
 *    observation to a file of its own, each line with one write(), so the
 *    log of a SIGKILLed worker is intact up to its death. Times are
 *    CLOCK_MONOTONIC nanoseconds since the test began (the same clock in
 *    every process);
 *  - workers: forked, stopped and reaped by the parent, with their fate
 *    (killed by the parent, killed themselves, exited, survived) and the
 *    time it was known, the latest their ports can have lived;
 *  - reading the logs back: whole files in memory, records with the
 *    numbers of a line and a pointer to the line for diagnostics;
 *  - a hash map from 64-bit keys to 32-bit values (the checkers' indices);
 *  - violations: counted per category, the first few printed with their
 *    context (the relevant log lines), the rest only counted.
 */
#ifndef FLOE_TESTS_HOST_MODEL_H
#define FLOE_TESTS_HOST_MODEL_H

#include "helpers.h"

/* ------------------------------------------------------------------ */
/* Time and the log                                                   */
/* ------------------------------------------------------------------ */

static uint64_t model_base; /* th_now_ns() when the test began */
static int model_log_fd = -1;

static inline uint64_t model_now(void)
{
	return th_now_ns() - model_base;
}

/* Append one line (a newline is added) with a single write(). */
static inline void model_log(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void model_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(model_log_fd, line, (size_t)n) < 0)
		return;
}

static inline int model_log_open(const char *path)
{
	model_log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
					  O_CLOEXEC, 0600);
	return model_log_fd < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Hash map: uint64_t key -> uint32_t value                           */
/* ------------------------------------------------------------------ */

struct model_map {
	uint64_t *keys;
	uint32_t *vals;
	uint8_t *used;
	size_t cap, n;
};

static inline size_t model_map_slot(const struct model_map *m, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ull;

	return (size_t)(h ^ (h >> 29)) & (m->cap - 1);
}

static inline void model_map_put(struct model_map *m, uint64_t key,
				 uint32_t val);

static inline void model_map_grow(struct model_map *m)
{
	struct model_map old = *m;

	m->cap = old.cap ? old.cap * 2 : 1024;
	m->n = 0;
	m->keys = calloc(m->cap, sizeof(*m->keys));
	m->vals = calloc(m->cap, sizeof(*m->vals));
	m->used = calloc(m->cap, 1);
	if (!m->keys || !m->vals || !m->used) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < old.cap; i++)
		if (old.used[i])
			model_map_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
	free(old.used);
}

static inline void model_map_put(struct model_map *m, uint64_t key,
				 uint32_t val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		model_map_grow(m);
	for (i = model_map_slot(m, key); m->used[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return;
		}
	m->used[i] = 1;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
}

/* 1 and *val if present, else 0. */
static inline int model_map_get(const struct model_map *m, uint64_t key,
				uint32_t *val)
{
	if (!m->cap)
		return 0;
	for (size_t i = model_map_slot(m, key); m->used[i];
	     i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			if (val)
				*val = m->vals[i];
			return 1;
		}
	return 0;
}

static inline void model_map_free(struct model_map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}

/* A growable array of uint32_t (indices). */
struct model_vec {
	uint32_t *v;
	uint32_t n, cap;
};

static inline void model_vec_push(struct model_vec *a, uint32_t x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		if (!a->v) {
			printf("Bail out! out of memory\n");
			exit(1);
		}
	}
	a->v[a->n++] = x;
}

/* ------------------------------------------------------------------ */
/* Workers                                                            */
/* ------------------------------------------------------------------ */

#define MODEL_MAX_WORKERS 512

enum model_fate {
	MODEL_RUNNING = 0,
	MODEL_KILLED,      /* SIGKILLed by the parent */
	MODEL_SELF_KILLED, /* SIGKILLed itself (right after a send) */
	MODEL_EXITED,      /* exited on its own, status 0 */
	MODEL_SURVIVED,    /* stopped, drained and exited when told */
	MODEL_FAILED,      /* anything else: crash, non-zero status, hang */
};

static const char *const model_fate_name[] = {
	"running", "killed", "killed itself", "exited", "survived", "FAILED",
};

struct model_worker {
	pid_t pid;
	int idx;
	enum model_fate fate;
	int status;        /* decoded as th_status() */
	int kill_sent;     /* the parent sent SIGKILL */
	uint64_t start;    /* model time of the fork */
	uint64_t kill_t;   /* model time the parent sent SIGKILL */
	uint64_t end;      /* model time it was reaped: it was dead by then */
	int acked;         /* last acknowledged command */
	int anchor;        /* lives to the end: neither killed nor exits */
	int flash;         /* lives for a few operations only */
	struct th_pipe cmd;
	uint64_t seed;
	/* the log, loaded by the checker */
	char *log;
	size_t log_len;
};

static struct model_worker model_workers[MODEL_MAX_WORKERS];
static int model_nworkers;
static struct th_pipe model_acks; /* workers -> parent: idx << 8 | code */
static char model_dir[256];

static inline void model_log_path(char *buf, size_t len, int idx)
{
	snprintf(buf, len, "%s/w%d.log", model_dir, idx);
}

/* In a worker: acknowledge command @code (with the command's letter). */
static inline void model_ack(int idx, char code)
{
	uint64_t v = ((uint64_t)idx << 8) | (uint8_t)code;

	th_send_u64(&model_acks, v);
}

/* In a worker: the next command, if one is waiting (else 0). */
static inline char model_poll_cmd(struct model_worker *w)
{
	char c;

	if (!th_pending(&w->cmd))
		return 0;
	if (th_recv(&w->cmd, &c, 1, 1000) < 0)
		return 0;
	return c;
}

/* In a worker: wait for command @want (or any if 0), up to @ms. */
static inline char model_wait_cmd(struct model_worker *w, long ms)
{
	char c;

	if (th_recv(&w->cmd, &c, 1, ms) < 0)
		return 0;
	return c;
}

/* Fork worker @fn for a new index (an anchor, a flash or neither); -1
 * when no more may be started. */
static inline int model_spawn(th_child_fn fn, uint64_t seed, int anchor,
			      int flash)
{
	struct model_worker *w;

	if (model_nworkers >= MODEL_MAX_WORKERS)
		return -1;
	w = &model_workers[model_nworkers];
	memset(w, 0, sizeof(*w));
	w->idx = model_nworkers;
	w->seed = th_pattern(seed, (uint64_t)w->idx) | 1;
	w->anchor = anchor;
	w->flash = flash;
	if (th_pipe_init(&w->cmd) < 0)
		return -1;
	w->start = model_now();
	w->pid = th_fork(fn, w);
	if (w->pid < 0) {
		th_pipe_close(&w->cmd);
		return -1;
	}
	model_nworkers++;
	return w->idx;
}

static inline void model_reaped(struct model_worker *w, int status)
{
	int st = th_status(status);

	w->end = model_now();
	w->status = st;
	th_forget_child(w->pid);
	close(w->cmd.wr);
	close(w->cmd.rd);
	if (w->kill_sent && st == 128 + SIGKILL)
		w->fate = MODEL_KILLED;
	else if (st == 128 + SIGKILL)
		w->fate = MODEL_SELF_KILLED;
	else if (st == 0)
		w->fate = w->acked == 'D' ? MODEL_SURVIVED : MODEL_EXITED;
	else
		w->fate = MODEL_FAILED;
}

/* Reap every worker that ended; returns how many are still running. */
static inline int model_reap(void)
{
	int running = 0;

	for (int i = 0; i < model_nworkers; i++) {
		struct model_worker *w = &model_workers[i];
		int status;

		if (w->fate != MODEL_RUNNING)
			continue;
		if (waitpid(w->pid, &status, WNOHANG) == w->pid)
			model_reaped(w, status);
		else
			running++;
	}
	return running;
}

static inline void model_kill(struct model_worker *w)
{
	int status;

	w->kill_t = model_now();
	w->kill_sent = 1;
	kill(w->pid, SIGKILL);
	while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
		;
	model_reaped(w, status);
}

/* A random running worker that is not an anchor, or NULL. */
static inline struct model_worker *model_pick_victim(void)
{
	int n = 0, k;

	for (int i = 0; i < model_nworkers; i++)
		n += model_workers[i].fate == MODEL_RUNNING &&
		     !model_workers[i].anchor;
	if (!n)
		return NULL;
	k = (int)th_rand_below((uint64_t)n);
	for (int i = 0; i < model_nworkers; i++)
		if (model_workers[i].fate == MODEL_RUNNING &&
		    !model_workers[i].anchor && k-- == 0)
			return &model_workers[i];
	return NULL;
}

/* Running workers. */
static inline int model_running(void)
{
	int n = 0;

	for (int i = 0; i < model_nworkers; i++)
		n += model_workers[i].fate == MODEL_RUNNING;
	return n;
}

/*
 * Send command @cmd to every running worker and wait up to @ms for each
 * to acknowledge it (or to end). Workers that do neither are reported,
 * SIGKILLed and marked FAILED. Returns how many failed so.
 */
static inline int model_command_all(char cmd, long ms)
{
	uint64_t deadline = th_now_ns() + (uint64_t)ms * 1000000ull;
	int failed = 0;

	for (int i = 0; i < model_nworkers; i++)
		if (model_workers[i].fate == MODEL_RUNNING)
			th_send(&model_workers[i].cmd, &cmd, 1);
	for (;;) {
		int waiting = 0;
		uint64_t v;

		model_reap();
		for (int i = 0; i < model_nworkers; i++)
			waiting += model_workers[i].fate == MODEL_RUNNING &&
				   model_workers[i].acked != cmd;
		if (!waiting)
			break;
		if (th_now_ns() > deadline) {
			for (int i = 0; i < model_nworkers; i++) {
				struct model_worker *w = &model_workers[i];

				if (w->fate != MODEL_RUNNING || w->acked == cmd)
					continue;
				tap_diag("worker w%d (pid %d) did not answer "
					 "'%c' within %ld ms: killed", w->idx,
					 (int)w->pid, cmd, ms);
				model_kill(w);
				w->fate = MODEL_FAILED;
				failed++;
			}
			break;
		}
		if (th_recv_u64(&model_acks, &v, 20) == 0 &&
		    (v >> 8) < (uint64_t)model_nworkers)
			model_workers[v >> 8].acked = (int)(v & 0xff);
	}
	return failed;
}

/* ------------------------------------------------------------------ */
/* Reading logs back                                                  */
/* ------------------------------------------------------------------ */

static inline char *model_slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t r;

		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap + 1);
			if (!buf) {
				printf("Bail out! out of memory\n");
				exit(1);
			}
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Parse up to @max integers after the record type of @line into @v. */
static inline int model_ints(const char *line, int64_t *v, int max)
{
	const char *p = line + 1;
	int n = 0;

	while (n < max) {
		char *end;
		long long x;

		while (*p == ' ')
			p++;
		if (*p == '\n' || !*p)
			break;
		x = strtoll(p, &end, 10);
		if (end == p)
			break;
		v[n++] = x;
		p = end;
	}
	return n;
}

/* Print one log line (up to its newline) as a diagnostic. */
static inline void model_show_line(int worker, const char *line)
{
	const char *nl = line ? strchr(line, '\n') : NULL;

	if (!line)
		return;
	tap_diag("    w%-3d %.*s", worker,
		 (int)(nl ? nl - line : (ptrdiff_t)strlen(line)), line);
}

/* Print the @before lines of worker @worker's log that precede @line,
 * @line itself and the @after lines that follow it. */
static inline void model_show_around(int worker, const char *line, int before,
				     int after)
{
	const char *start = model_workers[worker].log, *p = line;
	int past = -1;

	if (!line || !start)
		return;
	for (int i = 0; i < before && p > start; i++) {
		p--; /* the previous line's newline */
		while (p > start && p[-1] != '\n')
			p--;
	}
	while (*p) {
		const char *nl = strchr(p, '\n');

		if (!nl)
			break;
		model_show_line(worker, p);
		if (p == line)
			past = 0;
		else if (past >= 0)
			past++;
		if (past >= after)
			break;
		p = nl + 1;
	}
}

/* ------------------------------------------------------------------ */
/* Violations                                                         */
/* ------------------------------------------------------------------ */

/* violations printed in full per category: $FLOE_MODEL_SHOW, else 6 */
static inline long model_show_max(void)
{
	static long n = -1;

	if (n < 0)
		n = th_env_long("FLOE_MODEL_SHOW", 6);
	return n;
}

struct model_category {
	const char *name;
	const char *what;
	long count;
};

/*
 * Count a violation of @c; 1 if it is to be printed in full (the caller
 * then prints its context), else 0.
 */
static inline int model_violation(struct model_category *c, uint64_t seed,
				  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int model_violation(struct model_category *c, uint64_t seed,
				  const char *fmt, ...)
{
	char text[768];
	va_list ap;

	if (++c->count > model_show_max())
		return 0;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	tap_diag("VIOLATION [%s] seed %" PRIu64 ": %s", c->name, seed, text);
	return 1;
}

#endif /* FLOE_TESTS_HOST_MODEL_H */

// SPDX-License-Identifier: MIT
/*
 * The shm backend: segments are files in /dev/shm, created unnamed
 * (O_TMPFILE) and linked into place so that nobody ever opens one
 * half-made. A node holds an exclusive flock() on its record for its
 * lifetime: the kernel drops the lock when the process dies, which is how
 * others learn that a node is dead. It also keeps its record open by name
 * for writing, so that its death closes it there and inotify reports
 * IN_CLOSE_WRITE under the record's name to watchers (the locked
 * descriptor was made unnamed, so its close names nothing). Other
 * segments keep no descriptor, only their mapping. Nothing is freed by the
 * kernel here: the library removes a dead node's files when it notices.
 */
#include "backend/backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/floe.h>

#include "names.h"

#define SHM_DIR "/dev/shm"

struct shm_backend {
	struct floe_backend be;
	int record_by_name; /* the node's record, opened by name; or -1 */
};

static struct shm_backend *to_shm(struct floe_backend *be)
{
	return (struct shm_backend *)be;
}

static int shm_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, SHM_DIR "/%s", name);

	return n < 0 || (size_t)n >= len ? FLOE_E_NAME : 0;
}

/*
 * Size the file and allocate its memory now. A sparse file on a full
 * /dev/shm is created without complaint, and its users then die of SIGBUS
 * at the first page tmpfs cannot supply; fallocate fails with ENOSPC
 * instead (tests/host/t_no_space).
 */
static int reserve(int fd, uint64_t size)
{
	if (!fallocate(fd, 0, 0, (off_t)size))
		return 0;
	return errno == EOPNOTSUPP ? ftruncate(fd, (off_t)size) : -1;
}

static int shm_seg_create(struct floe_backend *be, const char *name,
			  uint64_t size, uint32_t mode, unsigned int flags,
			  const struct floe_port_ref *owner, const void *init,
			  size_t init_len, struct floe_seg *out)
{
	char path[128], self[64];
	bool record = flags == FLOE_SEG_OWNED_BY_PORT && owner &&
		      owner->role == FLOE_ROLE_NODE;
	int fd, ret;

	ret = shm_path(path, sizeof(path), name);
	if (ret)
		return ret;
	/* An unnamed file, made whole (and locked) before it gets its name:
	 * nobody sees it half-made, and a creator that dies first leaves
	 * nothing behind. */
	fd = open(SHM_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EOPNOTSUPP || errno == EISDIR
			       ? FLOE_E_BACKEND
			       : floe_errno_to_error(errno);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (fchmod(fd, mode) || reserve(fd, size) ||
	    (record && flock(fd, LOCK_EX | LOCK_NB))) {
		ret = floe_errno_to_error(errno);
		close(fd);
		return ret;
	}
	ret = floe_seg_map(fd, size, true, out);
	if (ret) {
		close(fd);
		return ret;
	}
	if (init_len)
		memcpy(out->addr, init, init_len);
	if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW)) {
		ret = floe_errno_to_error(errno);
		floe_seg_close(out);
	} else if (!record) {
		floe_seg_drop_fd(out);
	} else if (to_shm(be)->record_by_name < 0) {
		/* without it watchers see this node's death only when
		 * something else changes */
		to_shm(be)->record_by_name =
			open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	}
	return ret;
}

static int shm_seg_open(struct floe_backend *be, const char *name, bool rw,
			struct floe_seg *out)
{
	char path[128];
	struct stat st;
	int fd, ret;

	(void)be;
	ret = shm_path(path, sizeof(path), name);
	if (ret)
		return ret;
	fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return floe_errno_to_error(errno);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return FLOE_E_CORRUPT;
	}
	ret = floe_seg_map(fd, (uint64_t)st.st_size, rw, out);
	if (ret)
		close(fd);
	else
		floe_seg_drop_fd(out);
	return ret;
}

static int shm_seg_unlink(struct floe_backend *be, const char *name)
{
	char path[128];
	int ret;

	(void)be;
	ret = shm_path(path, sizeof(path), name);
	if (ret)
		return ret;
	return unlink(path) ? floe_errno_to_error(errno) : 0;
}

static int shm_seg_list(struct floe_backend *be, const char *prefix,
			int (*cb)(const char *name, void *ctx), void *ctx)
{
	(void)be;
	return floe_list_segments(SHM_DIR, prefix, cb, ctx);
}

static int shm_port_register(struct floe_backend *be, uint32_t role,
			     const char *service, uint64_t node_id,
			     struct floe_port_ref *ref)
{
	uint64_t id;

	(void)be;
	(void)service;
	do {
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			return FLOE_E_SYSTEM;
		id >>= 2; /* below FLOE_CLAIM_KEY_LIMIT */
	} while (!id);
	ref->id = id;
	ref->node_id = node_id ? node_id : id;
	ref->slot = 0;
	ref->role = role;
	return 0;
}

static void shm_port_unregister(struct floe_backend *be,
				const struct floe_port_ref *ref)
{
	(void)be;
	(void)ref;
}

/* A port lives as long as its node; a node while its file is locked. */
static enum floe_liveness shm_port_liveness(struct floe_backend *be,
					    const struct floe_port_ref *ref)
{
	char name[FLOE_SEG_NAME_MAX], path[128];
	enum floe_liveness state;
	int fd;

	floe_seg_name(name, be->domain, FLOE_KIND_NODE, ref->node_id, 0);
	if (shm_path(path, sizeof(path), name))
		return FLOE_PORT_UNKNOWN;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? FLOE_PORT_DEAD : FLOE_PORT_UNKNOWN;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		state = FLOE_PORT_DEAD;
	else
		state = errno == EWOULDBLOCK ? FLOE_PORT_ALIVE
					     : FLOE_PORT_UNKNOWN;
	close(fd);
	return state;
}

/* Liveness is the node's: its id is the key. */
/*
 * No kernel unlinks a departed port's names here: they stay until the
 * library cleans up after it, so there is nothing to hold.
 */
static int shm_port_hold(struct floe_backend *be,
			 const struct floe_port_ref *owner,
			 const struct floe_port_ref *holder)
{
	(void)be;
	(void)owner;
	(void)holder;
	return 0;
}

static int shm_port_release(struct floe_backend *be, uint64_t owner_id,
			    const struct floe_port_ref *holder)
{
	(void)be;
	(void)owner_id;
	(void)holder;
	return 0;
}

static uint64_t shm_claim_key(struct floe_backend *be,
			      const struct floe_port_ref *ref)
{
	(void)be;
	return ref->node_id;
}

static enum floe_liveness shm_claim_liveness(struct floe_backend *be,
					     uint64_t key)
{
	struct floe_port_ref ref = { .id = key, .node_id = key };

	return shm_port_liveness(be, &ref);
}

/* The domain's names are "<domain>.<kind>...". */
static bool concerns(struct floe_backend *be, const char *name)
{
	size_t n = strlen(be->domain);

	return !strncmp(name, be->domain, n) && name[n] == '.';
}

static int shm_changes_open(struct floe_backend *be, bool *complete)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	(void)be;
	if (fd < 0)
		return floe_errno_to_error(errno);
	if (inotify_add_watch(fd, SHM_DIR,
			      IN_CREATE | IN_DELETE | IN_CLOSE_WRITE |
				      IN_MOVED_TO | IN_MOVED_FROM) < 0) {
		close(fd);
		return FLOE_E_SYSTEM;
	}
	*complete = true;
	return fd;
}

static bool shm_changes_take(struct floe_backend *be, int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool ours = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			/* IN_Q_OVERFLOW: events were lost, so anything */
			ours |= (ev->mask & IN_Q_OVERFLOW) ||
				(ev->len && concerns(be, ev->name));
			p += sizeof(*ev) + ev->len;
		}
	}
	return ours;
}

static void shm_destroy(struct floe_backend *be)
{
	if (to_shm(be)->record_by_name >= 0)
		close(to_shm(be)->record_by_name);
	free(to_shm(be));
}

static const struct floe_backend_ops shm_ops = {
	.kind = FLOE_BACKEND_SHM,
	.seg_create = shm_seg_create,
	.seg_open = shm_seg_open,
	.seg_unlink = shm_seg_unlink,
	.seg_list = shm_seg_list,
	.port_register = shm_port_register,
	.port_unregister = shm_port_unregister,
	.port_liveness = shm_port_liveness,
	.port_hold = shm_port_hold,
	.port_release = shm_port_release,
	.claim_key = shm_claim_key,
	.claim_liveness = shm_claim_liveness,
	.changes_open = shm_changes_open,
	.changes_take = shm_changes_take,
	.destroy = shm_destroy,
};

int floe_backend_shm_open(const char *domain, struct floe_backend **out)
{
	struct shm_backend *sb;

	if (access(SHM_DIR, W_OK))
		return FLOE_E_BACKEND;
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return FLOE_E_NOMEM;
	sb->be.ops = &shm_ops;
	sb->record_by_name = -1;
	snprintf(sb->be.domain, sizeof(sb->be.domain), "%s", domain);
	*out = &sb->be;
	return 0;
}

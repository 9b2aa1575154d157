// SPDX-License-Identifier: MIT
#include "backend/backend.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/log.h"
#include "names.h"

int floe_errno_to_error(int err)
{
	switch (err) {
	case ENOENT:
		return FLOE_E_NOT_FOUND;
	case EEXIST:
		return FLOE_E_EXISTS;
	case EACCES:
	case EPERM:
		return FLOE_E_PERMISSION;
	case ENOMEM:
		return FLOE_E_NOMEM;
	case ENOSPC:
	case EDQUOT:
	case ENFILE: /* the module's segment count cap */
	case EFBIG:
		return FLOE_E_NO_SPACE;
	case EMFILE:
		return FLOE_E_FD_LIMIT;
	case EINVAL:
	case ENAMETOOLONG:
		return FLOE_E_INVALID;
	case ESRCH:		/* kmod: the port named is not alive */
		return FLOE_E_DEAD;
	case ENOTTY:		/* kmod: the module predates the ioctl */
		return FLOE_E_BACKEND;
	default:
		return FLOE_E_SYSTEM;
	}
}

int floe_seg_map(int fd, uint64_t size, bool rw, struct floe_seg *out)
{
	void *addr;

	if (size == 0 || size > SIZE_MAX)
		return FLOE_E_CORRUPT;
	addr = mmap(NULL, size, rw ? PROT_READ | PROT_WRITE : PROT_READ,
		    MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		return floe_errno_to_error(errno);
	out->addr = addr;
	out->size = size;
	out->fd = fd;
	out->writable = rw;
	return 0;
}

void floe_seg_drop_fd(struct floe_seg *seg)
{
	if (seg->fd >= 0)
		close(seg->fd);
	seg->fd = -1;
}

void floe_seg_close(struct floe_seg *seg)
{
	if (seg->addr)
		munmap(seg->addr, seg->size);
	floe_seg_drop_fd(seg);
	seg->addr = NULL;
}

int floe_backend_open(enum floe_backend_kind kind, const char *domain,
		      struct floe_backend **out)
{
	const char *env = getenv("FLOE_BACKEND");
	int ret;

	if (kind == FLOE_BACKEND_AUTO && env && *env) {
		if (!strcmp(env, "kmod"))
			kind = FLOE_BACKEND_KMOD;
		else if (!strcmp(env, "shm"))
			kind = FLOE_BACKEND_SHM;
		else if (strcmp(env, "auto"))
			return FLOE_E_INVALID;
	}
	switch (kind) {
	case FLOE_BACKEND_KMOD:
		return floe_backend_kmod_open(domain, out);
	case FLOE_BACKEND_SHM:
		return floe_backend_shm_open(domain, out);
	case FLOE_BACKEND_AUTO:
		ret = floe_backend_kmod_open(domain, out);
		if (!ret)
			return 0;
		floe_log(FLOE_LOG_INFO,
			 "kernel module unusable (%s): using the shm backend",
			 floe_strerror(ret));
		return floe_backend_shm_open(domain, out);
	}
	return FLOE_E_INVALID;
}

int floe_list_segments(const char *dir_path, const char *prefix,
		       int (*cb)(const char *name, void *ctx), void *ctx)
{
	size_t plen = strlen(prefix);
	struct dirent *de;
	int count = 0;
	DIR *dir = opendir(dir_path);

	if (!dir)
		return floe_errno_to_error(errno);
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, prefix, plen) ||
		    !floe_seg_name_valid(de->d_name))
			continue;
		count++;
		if (cb(de->d_name, ctx))
			break;
	}
	closedir(dir);
	return count;
}

// SPDX-License-Identifier: MIT
#include "internal.h"

static const char *const messages[] = {
	[0] = "success",
	[-FLOE_E_INVALID] = "invalid argument",
	[-FLOE_E_NOMEM] = "out of memory",
	[-FLOE_E_NAME] = "invalid name (empty, too long or bad characters)",
	[-FLOE_E_EXISTS] = "service already exists",
	[-FLOE_E_NOT_FOUND] = "service does not exist",
	[-FLOE_E_TYPE_MISMATCH] = "payload type differs from the service's",
	[-FLOE_E_QOS_MISMATCH] = "service does not offer the requested QoS",
	[-FLOE_E_ATTR_MISMATCH] = "required attribute missing or different",
	[-FLOE_E_PORT_LIMIT] = "service has its maximum of such ports",
	[-FLOE_E_NODE_LIMIT] = "service has its maximum of nodes",
	[-FLOE_E_LOAN_LIMIT] = "publisher has its maximum of loaned samples",
	[-FLOE_E_BORROW_LIMIT] = "subscriber holds its maximum of samples",
	[-FLOE_E_POOL_EMPTY] = "no free chunk: all are in flight",
	[-FLOE_E_TOO_LARGE] = "slice or type exceeds the allowed maximum",
	[-FLOE_E_PERMISSION] = "permission denied",
	[-FLOE_E_CORRUPT] = "shared state failed validation",
	[-FLOE_E_BACKEND] = "backend unavailable",
	[-FLOE_E_NO_SPACE] = "shared memory exhausted or over its cap",
	[-FLOE_E_BUSY] = "service is being created or removed",
	[-FLOE_E_DEAD] = "peer is dead",
	[-FLOE_E_VERSION] = "incompatible floe version",
	[-FLOE_E_SYSTEM] = "unexpected system error",
	[-FLOE_E_TIMEOUT] = "timed out",
	[-FLOE_E_WOULD_BLOCK] = "cannot deliver now",
	[-FLOE_E_PATTERN] = "service has another messaging pattern",
	[-FLOE_E_INTERRUPTED] = "interrupted by SIGINT or SIGTERM",
	[-FLOE_E_CONFIG] = "invalid configuration file",
	[-FLOE_E_END_OF_STREAM] = "every server ended its response stream",
	[-FLOE_E_ACTIVE_LIMIT] = "client has its maximum of active requests",
	[-FLOE_E_NO_RESPONSE] = "a fire-and-forget request takes no response",
	[-FLOE_E_NO_KEY] = "blackboard has no entry with this key",
	[-FLOE_E_FD_LIMIT] = "process is out of file descriptors (ulimit -n)",
	[-FLOE_E_ATTACHED] = "already attached to this waitset",
	[-FLOE_E_MISSED_DEADLINE] = "the event service's deadline passed "
				    "without a notification",
};

FLOE_EXPORT const char *floe_strerror(int err)
{
	if (err > 0 || -err >= (int)(sizeof(messages) / sizeof(messages[0])) ||
	    !messages[-err])
		return "unknown floe error";
	return messages[-err];
}

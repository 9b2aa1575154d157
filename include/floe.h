/* SPDX-License-Identifier: MIT */
/*
 * floe — zero-copy inter-process communication for Linux.
 *
 * A process creates a node; a node opens or creates services by name; a
 * service hands out ports (publishers, subscribers). Payloads are written in
 * place into shared memory and delivered by passing offsets through
 * lock-free queues: no copy, no lock and no system call per message.
 *
 * Two backends carry the shared memory and the liveness of ports:
 *  - "kmod": the /dev/floe kernel module; a port's death is noticed through a
 *    read-only liveness table the kernel updates when a process dies;
 *  - "shm": plain POSIX shared memory (/dev/shm) with file-lock liveness;
 *    stale resources of dead nodes are cleaned by the next process to notice.
 * The module is used when /dev/floe is present and usable; FLOE_BACKEND=kmod
 * or FLOE_BACKEND=shm (or struct floe_node_opts.backend) overrides.
 *
 * Errors: functions return 0 (or a non-negative count) on success and a
 * negative enum floe_error on failure; floe_strerror() describes it.
 *
 * Threads: a node may be shared by threads that create and destroy ports
 * concurrently. A publisher or subscriber, and the samples it hands out, are
 * used by one thread at a time (move them between threads freely). Handles
 * are not valid across fork(); the child creates its own node.
 *
 * Order of destruction: samples, loans and requests before their port,
 * ports before their service, services before their node. Destroying an
 * object while what it handed out is still in use would leave those handles
 * pointing at freed memory, so floe prints what is wrong (naming the call)
 * on stderr and aborts instead.
 */
#ifndef FLOE_H
#define FLOE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLOE_VERSION_MAJOR 0
#define FLOE_VERSION_MINOR 1

/** Longest node or service name, without the terminating NUL. */
#define FLOE_NAME_LEN 255
/** Longest payload type name, without the terminating NUL. */
#define FLOE_TYPE_NAME_LEN 127
/** Attributes per service, and their key and value lengths (without NUL). */
#define FLOE_MAX_ATTRIBUTES 16
#define FLOE_ATTR_KEY_LEN 31
#define FLOE_ATTR_VALUE_LEN 127

enum floe_error {
	FLOE_OK = 0,
	FLOE_E_INVALID = -1,          /**< bad argument */
	FLOE_E_NOMEM = -2,            /**< out of process memory */
	FLOE_E_NAME = -3,             /**< name empty, too long or bad characters */
	FLOE_E_EXISTS = -4,           /**< service already exists (create) */
	FLOE_E_NOT_FOUND = -5,        /**< service does not exist (open) */
	FLOE_E_TYPE_MISMATCH = -6,    /**< payload type name/size/alignment differ */
	FLOE_E_QOS_MISMATCH = -7,     /**< requested QoS exceeds the service's */
	FLOE_E_ATTR_MISMATCH = -8,    /**< a required attribute is missing/differs */
	FLOE_E_PORT_LIMIT = -9,       /**< service has its maximum of this port kind */
	FLOE_E_NODE_LIMIT = -10,      /**< service has its maximum of nodes */
	FLOE_E_LOAN_LIMIT = -11,      /**< publisher has its maximum samples loaned */
	FLOE_E_BORROW_LIMIT = -12,    /**< subscriber holds its maximum samples */
	FLOE_E_POOL_EMPTY = -13,      /**< no free chunk (all in flight) */
	FLOE_E_TOO_LARGE = -14,       /**< slice or type exceeds the maximum */
	FLOE_E_PERMISSION = -15,      /**< access to shared memory denied */
	FLOE_E_CORRUPT = -16,         /**< shared state failed validation */
	FLOE_E_BACKEND = -17,         /**< backend unavailable or failed */
	FLOE_E_NO_SPACE = -18,        /**< shared memory exhausted or capped */
	FLOE_E_BUSY = -19,            /**< service still being created/removed */
	FLOE_E_DEAD = -20,            /**< the peer or node is dead */
	FLOE_E_VERSION = -21,         /**< shared layout of another floe version */
	FLOE_E_SYSTEM = -22,          /**< unexpected system call failure (errno) */
	FLOE_E_TIMEOUT = -23,         /**< deadline passed */
	FLOE_E_WOULD_BLOCK = -24,     /**< delivery impossible right now */
	FLOE_E_PATTERN = -25,         /**< service has another messaging pattern */
	FLOE_E_INTERRUPTED = -26,     /**< stopped by SIGINT or SIGTERM */
	FLOE_E_CONFIG = -27,          /**< invalid configuration file */
	FLOE_E_END_OF_STREAM = -28,   /**< every server ended its response stream */
	FLOE_E_ACTIVE_LIMIT = -29,    /**< client has its maximum of active requests */
	FLOE_E_NO_RESPONSE = -30,     /**< a fire-and-forget request takes no response */
	FLOE_E_NO_KEY = -32,          /**< blackboard has no entry with this key */
	FLOE_E_FD_LIMIT = -33,        /**< process out of file descriptors */
	FLOE_E_ATTACHED = -34,        /**< already attached to this waitset */
	FLOE_E_MISSED_DEADLINE = -35, /**< an event service's deadline passed */
};

/** Text for a floe error code (also accepts 0). Never NULL. */
const char *floe_strerror(int err);

/* ------------------------------------------------------------------ */
/* Logging                                                            */
/* ------------------------------------------------------------------ */

/*
 * floe says what users need to know and cannot see otherwise: a peer
 * found dead and what was reclaimed after it, a connection quarantined
 * because its shared state was corrupt, a service refused and why, a
 * fallback to the shm backend or to epoll. Nothing is logged per message.
 *
 * By default warnings and errors go to stderr, one line each
 * ("floe[<pid>]: warn: <message>"); the environment variable
 * FLOE_LOG_LEVEL (off, error, warn, info, debug) changes the level until
 * the program calls floe_set_log(). The sink is the one process-wide
 * setting of the library, like a C library's stderr.
 */
enum floe_log_level {
	FLOE_LOG_OFF = 0,
	FLOE_LOG_ERROR = 1,
	FLOE_LOG_WARN = 2,
	FLOE_LOG_INFO = 3,
	FLOE_LOG_DEBUG = 4,
};

/** A log sink: @message is one line without its newline. */
typedef void (*floe_log_fn)(enum floe_log_level level, const char *message,
			    void *ctx);

/**
 * Deliver messages of @level and more severe ones (FLOE_LOG_OFF: none) to
 * @fn with @ctx, or to stderr when @fn is NULL; FLOE_LOG_LEVEL is no
 * longer consulted. Safe from any thread (no lock); a message already
 * being delivered on another thread may still reach the previous sink.
 * Returns 0, or FLOE_E_INVALID for a level out of range.
 */
int floe_set_log(enum floe_log_level level, floe_log_fn fn, void *ctx);

/** The level in effect: floe_set_log's, else FLOE_LOG_LEVEL's, else
 * FLOE_LOG_WARN. */
enum floe_log_level floe_log_get_level(void);

/** "off", "error", "warn", "info" or "debug" to a level: 0, or
 * FLOE_E_INVALID for any other text. */
int floe_log_level_parse(const char *text, enum floe_log_level *out);

/** A level's name as floe_log_level_parse takes it; NULL if out of range. */
const char *floe_log_level_name(enum floe_log_level level);

/* ------------------------------------------------------------------ */
/* Nodes                                                              */
/* ------------------------------------------------------------------ */

typedef struct floe_node floe_node;

enum floe_backend_kind {
	FLOE_BACKEND_AUTO = 0,
	FLOE_BACKEND_KMOD = 1,
	FLOE_BACKEND_SHM = 2,
};

struct floe_node_opts {
	/**
	 * Backend; AUTO honours $FLOE_BACKEND, then the configuration files'
	 * "backend", then probes /dev/floe.
	 */
	enum floe_backend_kind backend;
	/**
	 * Domain: systems in different domains never see each other.
	 * NULL: $FLOE_DOMAIN, else the configuration files' "domain", else
	 * "floe". [A-Za-z0-9_-], 1..16 characters ("" is FLOE_E_NAME).
	 */
	const char *domain;
};

/** Defaults for struct floe_node_opts. */
void floe_node_opts_init(struct floe_node_opts *opts);

/**
 * Create a node named @name (1..FLOE_NAME_LEN printable characters; not
 * unique). @opts may be NULL. The node is registered so that others can see
 * it and can reclaim its resources once it dies.
 *
 * Reads the INI configuration: $FLOE_CONFIG if set (must exist), else
 * /etc/floe/floe.conf overridden key by key by
 * $XDG_CONFIG_HOME/floe/floe.conf (~/.config/floe/floe.conf); absent files
 * are fine. A malformed file (syntax, unknown section or key, bad value)
 * fails with FLOE_E_CONFIG.
 */
int floe_node_create(const char *name, const struct floe_node_opts *opts,
		     floe_node **out);

/** Destroy a node; all its services must be closed first (else abort). */
void floe_node_destroy(floe_node *node);

/** The node's id, unique within the domain. */
uint64_t floe_node_id(const floe_node *node);

/** The backend actually in use. */
enum floe_backend_kind floe_node_backend(const floe_node *node);

/** "kmod" or "shm". */
const char *floe_backend_name(enum floe_backend_kind kind);

enum floe_node_state {
	FLOE_NODE_ALIVE = 1,
	FLOE_NODE_DEAD = 2,
	/** exists but cannot be inspected (other user, or half-written) */
	FLOE_NODE_INACCESSIBLE = 3,
};

struct floe_node_info {
	uint64_t id;
	int32_t pid;
	enum floe_node_state state;
	char name[FLOE_NAME_LEN + 1];
};

/**
 * Call @cb for every node of @node's domain (including @node). Return
 * non-zero from @cb to stop early. Returns the number of nodes visited or an
 * error.
 */
int floe_node_list(floe_node *node,
		   int (*cb)(const struct floe_node_info *info, void *ctx),
		   void *ctx);

/**
 * Remove what dead nodes of the domain left behind: their registrations,
 * their ports' slots in every service, their publishers' memory, and
 * services no live node uses. Live nodes are not touched.
 *
 * With the kmod backend the kernel unlinks a dead process's named memory at
 * once and peers free its slots when they next look; with shm, slots are
 * freed lazily (when a service runs out of them, or a publisher out of
 * chunks) and a dead node's files stay until this is called (e.g. by
 * `floe node cleanup`). Returns the number of dead nodes removed.
 */
int floe_node_cleanup_dead(floe_node *node);

/* ------------------------------------------------------------------ */
/* Services                                                           */
/* ------------------------------------------------------------------ */

typedef struct floe_service floe_service;

/** The payload type: recorded by the creator, checked by every opener. */
struct floe_type {
	const char *name; /**< e.g. "TransmissionData"; 1..FLOE_TYPE_NAME_LEN */
	uint64_t size;    /**< bytes of one element */
	uint64_t align;   /**< power of two, <= 4096 */
};

/** Quality of service of a publish-subscribe service. */
struct floe_pubsub_qos {
	uint32_t max_publishers;
	uint32_t max_subscribers;
	uint32_t max_nodes;
	/** samples a subscriber's queue holds per publisher */
	uint32_t subscriber_max_buffer_size;
	/** samples a subscriber may hold (received, not yet released) */
	uint32_t subscriber_max_borrowed_samples;
	/** last samples re-delivered to a subscriber that joins late */
	uint32_t history_size;
	/** samples a publisher may have loaned (not yet sent) */
	uint32_t publisher_max_loaned_samples;
	/** bytes of the optional user header in front of each payload */
	uint32_t user_header_size;
	/** full queue: true drops the oldest sample, false applies the
	 * publisher's unable-to-deliver strategy */
	bool enable_safe_overflow;
};

/** Defaults: 2 publishers, 8 subscribers, 20 nodes, buffer 4, borrowed 2,
 * history 0, loans 2, no user header, safe overflow on. */
void floe_pubsub_qos_init(struct floe_pubsub_qos *qos);

/**
 * The [pubsub] defaults of the configuration files as they were when
 * @node was created (floe_pubsub_qos_init's values for keys no file
 * sets): an explicit opt-in, since a program's own QoS would otherwise
 * change with a file it does not know about. 0, or FLOE_E_INVALID.
 */
int floe_pubsub_qos_init_from_config(const floe_node *node,
				     struct floe_pubsub_qos *qos);

struct floe_attribute {
	const char *key;
	const char *value;
};

/** What a service is created with, or what an opener requires. */
struct floe_service_opts {
	struct floe_type type;
	/**
	 * create: the service's QoS (NULL: defaults). open: demands (NULL:
	 * none): every non-zero count is a minimum the service must offer,
	 * a non-zero user_header_size must match exactly; enable_safe_overflow
	 * is not compared. A service that falls short: FLOE_E_QOS_MISMATCH.
	 */
	const struct floe_pubsub_qos *qos;
	/** create: attributes stored; open: attributes that must be present
	 * with equal values */
	const struct floe_attribute *attributes;
	size_t num_attributes;
	/** permission bits for the service's shared memory; 0 means 0600 */
	uint32_t mode;
};

/** Open an existing publish-subscribe service. */
int floe_service_open(floe_node *node, const char *name,
		      const struct floe_service_opts *opts, floe_service **out);
/** Create a publish-subscribe service; FLOE_E_EXISTS if it exists,
 * FLOE_E_TOO_LARGE if a publisher's pool of the type would exceed 2^46
 * bytes. */
int floe_service_create(floe_node *node, const char *name,
			const struct floe_service_opts *opts,
			floe_service **out);
/** Open the service, creating it if it does not exist. */
int floe_service_open_or_create(floe_node *node, const char *name,
				const struct floe_service_opts *opts,
				floe_service **out);
/**
 * Leave the service; its ports must be destroyed first (else abort). The
 * service's shared state is removed once no live node uses it.
 */
void floe_service_close(floe_service *service);

const char *floe_service_name(const floe_service *service);
/** The service's QoS as created. */
void floe_service_qos(const floe_service *service, struct floe_pubsub_qos *qos);
/** Value of attribute @key, or NULL. */
const char *floe_service_attribute(const floe_service *service,
				   const char *key);

/* ------------------------------------------------------------------ */
/* Publisher                                                          */
/* ------------------------------------------------------------------ */

typedef struct floe_publisher floe_publisher;
typedef struct floe_sample_mut floe_sample_mut;

enum floe_unable_to_deliver {
	/** drop the sample for the subscriber whose queue is full */
	FLOE_DELIVER_DISCARD = 0,
	/** retry until the subscriber makes room or dies */
	FLOE_DELIVER_BLOCK = 1,
};

enum floe_allocation {
	/** slices may never exceed initial_max_slice_len */
	FLOE_ALLOC_STATIC = 0,
	/** larger slices replace the data segment by one twice as large
	 * (repeatedly) as needed */
	FLOE_ALLOC_POWER_OF_TWO = 1,
};

struct floe_publisher_opts {
	enum floe_unable_to_deliver unable_to_deliver;
	/** elements of the payload type a slice may hold initially; 0 → 1 */
	uint64_t initial_max_slice_len;
	enum floe_allocation allocation;
	/** upper bound for growth, in elements; 0 → no bound beyond memory */
	uint64_t max_slice_len;
};

void floe_publisher_opts_init(struct floe_publisher_opts *opts);

/** Create a publisher; @opts may be NULL. */
int floe_publisher_create(floe_service *service,
			  const struct floe_publisher_opts *opts,
			  floe_publisher **out);
/**
 * Destroy; every loan must be sent or discarded first (else abort). What
 * was delivered stays: samples held stay valid until released, samples
 * still queued are received as if the publisher were there (a new
 * publisher in its slot queues behind them), until each subscriber took
 * them or left.
 */
void floe_publisher_destroy(floe_publisher *pub);
/** The publisher's port id (appears in every sample header). */
uint64_t floe_publisher_id(const floe_publisher *pub);

/**
 * Loan an uninitialised sample of @len elements of the payload type
 * (@len == 1 for a plain typed payload). FLOE_E_LOAN_LIMIT,
 * FLOE_E_POOL_EMPTY or FLOE_E_TOO_LARGE when it cannot.
 */
int floe_publisher_loan(floe_publisher *pub, uint64_t len,
			floe_sample_mut **out);
/** Where to write the payload (aligned to the type's alignment). */
void *floe_sample_mut_payload(floe_sample_mut *sample);
/** Where to write the user header, or NULL if the service has none. */
void *floe_sample_mut_user_header(floe_sample_mut *sample);
/** Number of elements the sample was loaned with. */
uint64_t floe_sample_mut_len(const floe_sample_mut *sample);
/**
 * Deliver the sample to every connected subscriber; the loan ends whatever
 * the result. Returns the number of subscribers it reached: each of them
 * receives it, however the publisher ends afterwards, unless it leaves
 * first or, with safe overflow, a newer sample pushes it out of a full
 * queue.
 */
int floe_sample_mut_send(floe_sample_mut *sample);
/** End a loan without sending. */
void floe_sample_mut_discard(floe_sample_mut *sample);
/** Loan, copy @bytes bytes of @data, send. @bytes must be a multiple of the
 * type size. Returns as floe_sample_mut_send(). */
int floe_publisher_send_copy(floe_publisher *pub, const void *data,
			     size_t bytes);
/**
 * Connect new subscribers (delivering history) and reclaim samples that
 * subscribers returned or died holding. Done by loan and send as well; call
 * it when the publisher is idle for long.
 */
int floe_publisher_update_connections(floe_publisher *pub);

/* ------------------------------------------------------------------ */
/* Subscriber                                                         */
/* ------------------------------------------------------------------ */

typedef struct floe_subscriber floe_subscriber;
typedef struct floe_sample floe_sample;

struct floe_subscriber_opts {
	/** queue depth per publisher; 0 → the service's maximum */
	uint32_t buffer_size;
};

int floe_subscriber_create(floe_service *service,
			   const struct floe_subscriber_opts *opts,
			   floe_subscriber **out);
/** Destroy; every received sample must be released first (else abort). */
void floe_subscriber_destroy(floe_subscriber *sub);
uint64_t floe_subscriber_id(const floe_subscriber *sub);

/**
 * Take the next sample, if any: returns 1 and sets *@out, 0 if nothing is
 * waiting (never while floe_subscriber_has_samples() says something is),
 * or an error (FLOE_E_BORROW_LIMIT). Samples from one publisher arrive in
 * send order, each once; publishers are served round-robin.
 */
int floe_subscriber_receive(floe_subscriber *sub, const floe_sample **out);
/** True if a sample is waiting. */
bool floe_subscriber_has_samples(floe_subscriber *sub);
/**
 * Sleep until a sample is waiting (1), @timeout_ns passes (0; 0 only
 * looks, UINT64_MAX waits forever) or a connected publisher died rather
 * than left (FLOE_E_DEAD, once per death; its samples stay receivable).
 * No separate event service is needed: a publisher wakes the subscribers
 * it reached, and makes a system call only for one that sleeps. Without
 * the module a death is seen within 50 ms. Signals do not end the wait.
 */
int floe_subscriber_wait(floe_subscriber *sub, uint64_t timeout_ns);
/**
 * A descriptor that is readable while a sample is waiting, for poll,
 * epoll or io_uring (made on the first call, owned by @sub: don't close
 * it). Receive until floe_subscriber_receive() returns 0, which empties
 * it (a ring for a sample already received may still arrive: a receive
 * that returns 0 empties it again). Deaths are not signalled on it (use
 * floe_subscriber_wait or a WaitSet). Negative FLOE_E_* on error.
 */
int floe_subscriber_fd(floe_subscriber *sub);
/**
 * Return the sample to its publisher; it must not be used afterwards. The
 * chunk reaches the publisher with the subscriber's next receive, wait or
 * look for samples (or its destruction); until then it counts as held.
 */
void floe_sample_release(const floe_sample *sample);

/** Read-only view of a received sample. */
const void *floe_sample_payload(const floe_sample *sample);
/** Payload bytes (a multiple of the type size). */
uint64_t floe_sample_payload_size(const floe_sample *sample);
/** Number of elements. */
uint64_t floe_sample_len(const floe_sample *sample);
const void *floe_sample_user_header(const floe_sample *sample);
/** Id of the publisher that sent it. */
uint64_t floe_sample_publisher_id(const floe_sample *sample);
/** Per-publisher sequence number, from 0. */
uint64_t floe_sample_sequence(const floe_sample *sample);


/* ------------------------------------------------------------------ */
/* Request-response                                                   */
/* ------------------------------------------------------------------ */

/*
 * Clients send requests; servers answer each with a stream of zero or
 * more responses, ended when the server drops the active request. Both
 * directions are zero-copy: a client loans a request in its own shared
 * memory and writes it in place; a server reads that very memory, and
 * loans its responses in its own.
 *
 * Several servers: every request goes to every server connected when it
 * is sent (as a publisher's sample goes to every subscriber), and its
 * pending response receives the responses of all of them, each server's
 * in the order sent; the stream ends when every one of them has ended it
 * (or left). Use one server per service for one answer per request.
 *
 * A request-response service has a namespace of its own (a pub-sub, an
 * event and a request-response service may share a name). Its request and
 * response types are both recorded and checked on open, as
 * struct floe_type is for pub-sub; a client may loan slices of the request
 * type, a server slices of the response type.
 *
 * Threads: a client, with its requests and pending responses, and a
 * server, with its active requests and responses, are each used by one
 * thread at a time.
 */

typedef struct floe_client floe_client;
typedef struct floe_server floe_server;
typedef struct floe_request_mut floe_request_mut;
typedef struct floe_pending_response floe_pending_response;
typedef struct floe_response floe_response;
typedef struct floe_active_request floe_active_request;
typedef struct floe_response_mut floe_response_mut;

struct floe_rr_qos {
	uint32_t max_clients;
	uint32_t max_servers;
	uint32_t max_nodes;
	/** requests of one client whose streams have not ended yet */
	uint32_t max_active_requests_per_client;
	/** requests a client may have loaned (not yet sent) */
	uint32_t max_loaned_requests;
	/** responses queued per client and server (not yet received) */
	uint32_t max_response_buffer_size;
	/** responses a server may have loaned (not yet sent) */
	uint32_t max_loaned_responses;
	/** allow requests that expect no response */
	bool enable_fire_and_forget;
};

/** Defaults: 8 clients, 2 servers, 20 nodes, 4 active requests per
 * client, 2 loaned requests, response buffer 4, 2 loaned responses,
 * fire-and-forget off. */
void floe_rr_qos_init(struct floe_rr_qos *qos);

/** The [request_response] defaults of the configuration files, as
 * floe_pubsub_qos_init_from_config. */
int floe_rr_qos_init_from_config(const floe_node *node,
				 struct floe_rr_qos *qos);

struct floe_rr_opts {
	struct floe_type request_type;
	struct floe_type response_type;
	/** create: the service's QoS (NULL: defaults); open: minimums (NULL:
	 * none) — a demanded enable_fire_and_forget must be offered —
	 * else FLOE_E_QOS_MISMATCH */
	const struct floe_rr_qos *qos;
	const struct floe_attribute *attributes;
	size_t num_attributes;
	uint32_t mode; /**< as in struct floe_service_opts */
};

/** Open, create, or open-or-create a request-response service. The
 * result is a floe_service of this pattern for floe_client_create and
 * floe_server_create; close it with floe_service_close. */
int floe_rr_open(floe_node *node, const char *name,
		 const struct floe_rr_opts *opts, floe_service **out);
int floe_rr_create(floe_node *node, const char *name,
		   const struct floe_rr_opts *opts, floe_service **out);
int floe_rr_open_or_create(floe_node *node, const char *name,
			   const struct floe_rr_opts *opts, floe_service **out);
/** The request-response service's QoS as created. */
void floe_rr_qos(const floe_service *service, struct floe_rr_qos *qos);

/** Slices, as struct floe_publisher_opts: of requests for a client, of
 * responses for a server. */
struct floe_client_opts {
	uint64_t initial_max_slice_len; /**< 0 → 1 */
	enum floe_allocation allocation;
	uint64_t max_slice_len;
};

struct floe_server_opts {
	/**
	 * A client's response buffer is full: DISCARD drops the response
	 * (floe_response_mut_send returns 0); BLOCK retries until the client
	 * makes room (its receives and sends drain its queue, throwing away
	 * responses of dropped pending responses), leaves or dies. Either
	 * way a response is dropped, not waited for, while the client holds
	 * more of this server's responses than max_active_requests_per_client
	 * x max_response_buffer_size besides its queue (read aside while it
	 * read another pending response, or received and not released): only
	 * the client's application frees those, and it may be waiting for a
	 * response this server would send next.
	 */
	enum floe_unable_to_deliver backpressure;
	uint64_t initial_max_slice_len; /**< 0 → 1 */
	enum floe_allocation allocation;
	uint64_t max_slice_len;
};

/** Create a client; @opts may be NULL. */
int floe_client_create(floe_service *service,
		       const struct floe_client_opts *opts, floe_client **out);
/** Destroy; its loaned requests, pending responses and received responses
 * must be ended first (else abort). Requests still queued stay for the
 * servers (fire-and-forget ones are still served). */
void floe_client_destroy(floe_client *client);
uint64_t floe_client_id(const floe_client *client);

/** Loan an uninitialised request of @len elements (1 for a plain typed
 * payload): FLOE_E_LOAN_LIMIT, FLOE_E_POOL_EMPTY, FLOE_E_TOO_LARGE. */
int floe_client_loan(floe_client *client, uint64_t len,
		     floe_request_mut **out);
void *floe_request_mut_payload(floe_request_mut *request);
uint64_t floe_request_mut_len(const floe_request_mut *request);
/**
 * Send the request to every connected server; *@out becomes its pending
 * response. Returns the number of servers reached (0: the pending
 * response ends at once). FLOE_E_ACTIVE_LIMIT when the client has
 * max_active_requests_per_client streams open: the request stays loaned
 * (send it later, or discard it).
 */
int floe_request_mut_send(floe_request_mut *request,
			  floe_pending_response **out);
/**
 * Send a request that expects no response; it does not count as active.
 * FLOE_E_QOS_MISMATCH (request stays loaned) unless the service enables
 * fire-and-forget. Returns the number of servers reached.
 */
int floe_request_mut_send_fire_and_forget(floe_request_mut *request);
/** End a loan without sending. */
void floe_request_mut_discard(floe_request_mut *request);
/** Loan, copy @bytes (a multiple of the request type's size), send. */
int floe_client_send_copy(floe_client *client, const void *data,
			  size_t bytes, floe_pending_response **out);

/**
 * Take the next response of this request: 1 (*@out set), 0 when none is
 * waiting yet, FLOE_E_END_OF_STREAM when every server ended its stream and
 * all responses were taken, FLOE_E_DEAD when a server died or left without
 * ending its stream (after what it sent was taken), FLOE_E_BORROW_LIMIT
 * when the client holds too many responses.
 */
int floe_pending_response_receive(floe_pending_response *pending,
				  const floe_response **out);
/**
 * Sleep until floe_pending_response_receive() has something to say (1: a
 * response, the end of the streams, or a server's death), @timeout_ns
 * passes (0; 0 only looks, UINT64_MAX waits forever), or an error.
 */
int floe_pending_response_wait(floe_pending_response *pending,
			       uint64_t timeout_ns);
/**
 * A descriptor readable while a response or stream end is queued for any
 * of @client's pending responses (as floe_subscriber_fd; receiving until
 * 0 on each pending response empties it).
 */
int floe_client_fd(floe_client *client);
/** Servers whose streams for this request have not ended yet. */
uint32_t floe_pending_response_servers(floe_pending_response *pending);
/**
 * Stop listening: responses still queued are released, servers see
 * floe_active_request_is_connected() turn false. Frees the active-request
 * place once every server ended (or left).
 */
void floe_pending_response_drop(floe_pending_response *pending);

const void *floe_response_payload(const floe_response *response);
uint64_t floe_response_payload_size(const floe_response *response);
uint64_t floe_response_len(const floe_response *response);
/** Port id of the server that sent it. */
uint64_t floe_response_server_id(const floe_response *response);
/** Return the response to its server; it must not be used afterwards. */
void floe_response_release(const floe_response *response);

/** Create a server; @opts may be NULL. */
int floe_server_create(floe_service *service,
		       const struct floe_server_opts *opts, floe_server **out);
/** Destroy; its active requests must be dropped and its loaned responses
 * sent or discarded first (else abort). Responses and stream ends still
 * queued stay for their clients. */
void floe_server_destroy(floe_server *server);
uint64_t floe_server_id(const floe_server *server);

/**
 * Take the next request: 1 (*@out set), 0 when none is waiting, or
 * FLOE_E_BORROW_LIMIT when the server holds max_clients *
 * max_active_requests_per_client requests. Clients take turns.
 */
int floe_server_receive(floe_server *server, floe_active_request **out);
/** True if a request is waiting. */
bool floe_server_has_requests(floe_server *server);
/**
 * Sleep until a request is waiting (1), @timeout_ns passes (0; 0 only
 * looks, UINT64_MAX waits forever) or a client died rather than left
 * (FLOE_E_DEAD, once per death), as floe_subscriber_wait.
 */
int floe_server_wait(floe_server *server, uint64_t timeout_ns);
/** A descriptor readable while a request is waiting (as
 * floe_subscriber_fd). */
int floe_server_fd(floe_server *server);
/** Reclaim responses that clients returned or died holding, and connect
 * new clients. Done by receive and loan too; call it when idle for long. */
int floe_server_update_connections(floe_server *server);

/** Read-only view of the request (in the client's shared memory). */
const void *floe_active_request_payload(const floe_active_request *request);
uint64_t floe_active_request_payload_size(const floe_active_request *request);
uint64_t floe_active_request_len(const floe_active_request *request);
uint64_t floe_active_request_client_id(const floe_active_request *request);
bool floe_active_request_is_fire_and_forget(const floe_active_request *request);
/** False once the client dropped its pending response, left or died
 * (a check of shared memory; with the shm backend also one system call
 * to ask whether the client lives). */
bool floe_active_request_is_connected(floe_active_request *request);
/**
 * Loan an uninitialised response of @len elements of the response type:
 * FLOE_E_NO_RESPONSE for a fire-and-forget request, else as
 * floe_client_loan.
 */
int floe_active_request_loan(floe_active_request *request, uint64_t len,
			     floe_response_mut **out);
void *floe_response_mut_payload(floe_response_mut *response);
uint64_t floe_response_mut_len(const floe_response_mut *response);
/**
 * Send the response to the request's client; the loan ends whatever the
 * result. Returns 1 if queued, 0 if the client no longer listens, (with
 * DISCARD) its buffer was full, or it holds all the responses it may
 * (struct floe_server_opts).
 */
int floe_response_mut_send(floe_response_mut *response);
void floe_response_mut_discard(floe_response_mut *response);
/** Loan, copy @bytes (a multiple of the response type's size), send. */
int floe_active_request_send_copy(floe_active_request *request,
				  const void *data, size_t bytes);
/** End the stream: the client learns it after the responses sent before;
 * the request returns to its client, responses still loaned from it are
 * discarded. Must not be used afterwards. */
void floe_active_request_drop(floe_active_request *request);

/* ------------------------------------------------------------------ */
/* Events                                                             */
/* ------------------------------------------------------------------ */

/*
 * An event service carries no payload: notifiers signal event ids
 * (0..event_id_max) and listeners learn which ids fired since they last
 * looked, each id once however often it fired. Waking a sleeping listener
 * costs the notifier one futex system call; a listener that is not asleep
 * costs it none. Event services live in their own namespace: a
 * publish-subscribe service and an event service may share a name (the
 * usual way to let subscribers sleep until data arrives).
 */

typedef struct floe_notifier floe_notifier;
typedef struct floe_listener floe_listener;

/** Lifecycle events an event service emits (floe_event_qos.lifecycle). */
enum floe_event_lifecycle {
	FLOE_EVENT_NOTIFIER_CREATED = 1 << 0,
	FLOE_EVENT_NOTIFIER_DROPPED = 1 << 1,
	FLOE_EVENT_NOTIFIER_DEAD = 1 << 2,
};

struct floe_event_qos {
	uint32_t max_notifiers;
	uint32_t max_listeners;
	uint32_t max_nodes;
	/** largest valid event id (at most 2^20 - 1) */
	uint32_t event_id_max;
	/** enum floe_event_lifecycle flags: every listener receives the
	 * matching id below when a notifier is created, destroyed, or found
	 * dead (its process died; signalled by whoever reclaims its slot).
	 * 0 (the default): none. Set at creation, not demanded by open. */
	uint32_t lifecycle;
	uint32_t notifier_created_event;
	uint32_t notifier_dropped_event;
	uint32_t notifier_dead_event;
	/** with > 0, every notifier is to notify at least this often: a
	 * notify after a longer silence returns FLOE_E_MISSED_DEADLINE (and
	 * is delivered), a listener's timed or blocking wait returns it when
	 * this long passes without an event, and a waitset reports
	 * MISSED_DEADLINE for an attached listener (creation only) */
	uint64_t deadline_ns;
};

/** Defaults: 16 notifiers, 16 listeners, 36 nodes, event ids 0..4095, no
 * lifecycle events, no deadline (so does a zeroed struct). */
void floe_event_qos_init(struct floe_event_qos *qos);

/** The [event] defaults of the configuration files, as
 * floe_pubsub_qos_init_from_config. */
int floe_event_qos_init_from_config(const floe_node *node,
				    struct floe_event_qos *qos);

struct floe_event_opts {
	/** create: the service's QoS (NULL: defaults); open: minimums
	 * (NULL: none), FLOE_E_QOS_MISMATCH if the service offers less */
	const struct floe_event_qos *qos;
	const struct floe_attribute *attributes;
	size_t num_attributes;
	uint32_t mode; /**< as in struct floe_service_opts */
};

/** Open, create, or open-or-create an event service; @opts may be NULL.
 * The result is a floe_service of the event pattern: pass it to
 * floe_notifier_create / floe_listener_create, close it with
 * floe_service_close. Publishers and subscribers refuse it
 * (FLOE_E_PATTERN), and notifiers and listeners refuse a pub-sub one. */
int floe_event_open(floe_node *node, const char *name,
		    const struct floe_event_opts *opts, floe_service **out);
int floe_event_create(floe_node *node, const char *name,
		      const struct floe_event_opts *opts, floe_service **out);
int floe_event_open_or_create(floe_node *node, const char *name,
			      const struct floe_event_opts *opts,
			      floe_service **out);
/** The event service's QoS as created. */
void floe_event_qos(const floe_service *service, struct floe_event_qos *qos);

int floe_notifier_create(floe_service *service, floe_notifier **out);
void floe_notifier_destroy(floe_notifier *notifier);
uint64_t floe_notifier_id(const floe_notifier *notifier);
/**
 * Signal @event_id to every listener of the service. Returns the number
 * of listeners signalled, or FLOE_E_INVALID if @event_id > event_id_max.
 */
int floe_notifier_notify(floe_notifier *notifier, uint64_t event_id);

int floe_listener_create(floe_service *service, floe_listener **out);
void floe_listener_destroy(floe_listener *listener);
uint64_t floe_listener_id(const floe_listener *listener);

/** Called once per event id that fired, in increasing id order. */
typedef void (*floe_event_cb)(uint64_t event_id, void *ctx);

/** Report the ids that fired since the last wait, without blocking.
 * Returns how many (0: none). @cb may be NULL to just consume them. */
int floe_listener_try_wait(floe_listener *listener, floe_event_cb cb,
			   void *ctx);
/** As try_wait, but sleep up to @timeout_ns for the first event. Returns
 * the number of ids reported, 0 when the timeout passed, or
 * FLOE_E_MISSED_DEADLINE when the service's deadline (shorter than the
 * timeout) passed first. */
int floe_listener_timed_wait(floe_listener *listener, uint64_t timeout_ns,
			     floe_event_cb cb, void *ctx);
/** As try_wait, but sleep until at least one event fired (or the
 * service's deadline passed: FLOE_E_MISSED_DEADLINE). */
int floe_listener_blocking_wait(floe_listener *listener, floe_event_cb cb,
				void *ctx);
/**
 * A file descriptor that becomes readable when an event fires, for poll,
 * epoll or io_uring; owned by the listener. Readiness only says "look":
 * call floe_listener_try_wait, which also clears it.
 */
int floe_listener_fd(floe_listener *listener);

/* ------------------------------------------------------------------ */
/* WaitSet                                                            */
/* ------------------------------------------------------------------ */

/*
 * Wait on many things at once without burning a core: listeners, plain
 * file descriptors, periodic intervals, and deadlines (a listener that
 * stays silent longer than its deadline is reported). Built on io_uring
 * (liburing); where io_uring is unavailable (e.g. kernel.io_uring_disabled)
 * it falls back to epoll with the same behaviour. A waitset is used by one
 * thread at a time.
 */

typedef struct floe_waitset floe_waitset;

enum floe_waitset_impl {
	FLOE_WAITSET_AUTO = 0,
	FLOE_WAITSET_IO_URING = 1,
	FLOE_WAITSET_EPOLL = 2,
};

struct floe_waitset_opts {
	/** AUTO: io_uring if it works, else epoll; $FLOE_WAITSET=io_uring|epoll
	 * overrides AUTO */
	enum floe_waitset_impl impl;
	/** stop run() cleanly on SIGINT and SIGTERM (blocked in the calling
	 * thread while it runs, restored afterwards) */
	bool handle_signals;
	/** wait on receiving ports through their descriptors even where
	 * io_uring can wait on their futex words ($FLOE_WAITSET_PORTS=
	 * descriptor does the same) */
	bool port_descriptors;
};

enum floe_trigger {
	FLOE_TRIGGER_NOTIFIED = 1,        /**< a listener has events */
	FLOE_TRIGGER_READABLE = 2,        /**< an attached fd is readable */
	FLOE_TRIGGER_TICK = 3,            /**< an interval elapsed */
	FLOE_TRIGGER_MISSED_DEADLINE = 4, /**< a listener or port stayed
					     silent */
	FLOE_TRIGGER_DATA = 5,            /**< a receiving port has data */
	FLOE_TRIGGER_CHANGED = 6,         /**< a watched domain changed */
};

/**
 * Called once per trigger. @attachment is the id attach returned. Return 0
 * to go on, non-zero to make run() return that value.
 */
typedef int (*floe_waitset_cb)(floe_waitset *ws, int attachment,
			       enum floe_trigger trigger, void *user);

int floe_waitset_create(const struct floe_waitset_opts *opts,
			floe_waitset **out);
/** Detaches everything; attached listeners stay valid. */
void floe_waitset_destroy(floe_waitset *ws);
/** What the waitset runs on (never AUTO). */
enum floe_waitset_impl floe_waitset_impl(const floe_waitset *ws);
/** "io_uring" or "epoll". */
const char *floe_waitset_impl_name(enum floe_waitset_impl impl);
/**
 * True if attached receiving ports are waited on through their futex
 * words (io_uring with IORING_OP_FUTEX_WAIT, Linux 6.7+: no socket between
 * a sender and the waitset); false if through their descriptors.
 */
bool floe_waitset_uses_futex(const floe_waitset *ws);

/**
 * Attach a listener: NOTIFIED when it has events (the callback should
 * consume them with floe_listener_try_wait). With @deadline_ns > 0 (0:
 * the event service's deadline, if it has one), MISSED_DEADLINE is
 * reported whenever @deadline_ns pass without an event.
 * Returns an attachment id (>= 0) or an error (FLOE_E_ATTACHED if it is
 * attached already).
 */
int floe_waitset_attach_listener(floe_waitset *ws, floe_listener *listener,
				 uint64_t deadline_ns, void *user);
/**
 * Attach a receiving port: DATA while something waits for it (the
 * callback should receive until 0; what it leaves is reported again).
 * A sender's death, even by SIGKILL, is noticed within about 50 ms and
 * reported as DATA once, so that the receive says what it means (a
 * client's pending response: FLOE_E_DEAD).
 * With @deadline_ns > 0, MISSED_DEADLINE is reported whenever
 * @deadline_ns pass without data. Detach before destroying the port.
 * Returns an attachment id or an error (FLOE_E_ATTACHED if attached
 * already). A client's attachment covers all its pending responses.
 */
int floe_waitset_attach_subscriber(floe_waitset *ws, floe_subscriber *sub,
				   uint64_t deadline_ns, void *user);
int floe_waitset_attach_server(floe_waitset *ws, floe_server *server,
			       uint64_t deadline_ns, void *user);
int floe_waitset_attach_client(floe_waitset *ws, floe_client *client,
			       uint64_t deadline_ns, void *user);
/** Attach a file descriptor: READABLE while it is readable
 * (FLOE_E_ATTACHED if it is watched already). */
int floe_waitset_attach_fd(floe_waitset *ws, int fd, void *user);
/** Attach an interval: TICK every @period_ns (> 0). */
int floe_waitset_attach_interval(floe_waitset *ws, uint64_t period_ns,
				 void *user);
/** Remove an attachment. */
int floe_waitset_detach(floe_waitset *ws, int attachment);

/**
 * Wait up to @timeout_ns (0: don't block) and report every trigger that is
 * due. Returns the number of triggers reported, a callback's non-zero
 * value, or FLOE_E_INTERRUPTED.
 */
int floe_waitset_run_once(floe_waitset *ws, uint64_t timeout_ns,
			  floe_waitset_cb cb);
/**
 * Report triggers until a callback returns non-zero (returned) or, with
 * handle_signals, SIGINT/SIGTERM arrives (FLOE_E_INTERRUPTED).
 */
int floe_waitset_run(floe_waitset *ws, floe_waitset_cb cb);

/* ------------------------------------------------------------------ */
/* Blackboard                                                         */
/* ------------------------------------------------------------------ */

/*
 * A blackboard holds typed key → value entries in shared memory: one
 * writer updates them, any number of readers read the latest values. The
 * keys and their types are fixed when the blackboard is created.
 *
 * Consistency: every entry has two value slots and one atomic state word
 * (generation, published slot). The writer fills the slot readers are not
 * pointed at, then publishes it with one store; a reader copies the
 * published slot and checks the state again, retrying if the writer began
 * overwriting that slot meanwhile. Readers never block the writer, never
 * see a torn value, and a writer that dies in the middle of a write
 * leaves the last published value readable: its half-written slot was
 * never published. Its writer slot is reclaimed, so a new writer can
 * attach.
 *
 * Change notification: every blackboard comes with an event service of
 * the same name (created and opened with it) whose event id i is entry i
 * of the creation order; each write notifies it. Readers wait with
 * floe_reader_wait, or attach floe_reader_listener() to a waitset and
 * take the changed keys with floe_reader_wait(reader, 0, ...). Do not use
 * that event service name for anything else.
 *
 * Threads: a writer or a reader is used by one thread at a time.
 */

typedef struct floe_blackboard floe_blackboard;
typedef struct floe_writer floe_writer;
typedef struct floe_reader floe_reader;

struct floe_blackboard_entry {
	uint64_t key;          /**< unique within the blackboard */
	const char *type_name; /**< 1..FLOE_TYPE_NAME_LEN characters */
	uint64_t size;         /**< bytes of the value, >= 1 */
	uint64_t align;        /**< power of two, <= 4096 */
	/** create: the value until the first write (@size bytes; NULL:
	 * zeros); open: ignored */
	const void *initial;
};

struct floe_blackboard_qos {
	uint32_t max_readers;
	uint32_t max_nodes;
};

/** Defaults: 8 readers, 20 nodes. (There is always exactly one writer
 * slot.) */
void floe_blackboard_qos_init(struct floe_blackboard_qos *qos);

/** The [blackboard] defaults of the configuration files, as
 * floe_pubsub_qos_init_from_config. */
int floe_blackboard_qos_init_from_config(const floe_node *node,
					 struct floe_blackboard_qos *qos);

struct floe_blackboard_opts {
	/**
	 * create: the entries (at most 4096, values together at most 1 GiB);
	 * open: entries the opener relies on (NULL/0: none), each of which
	 * must exist with the same type name, size and alignment, else
	 * FLOE_E_TYPE_MISMATCH.
	 */
	const struct floe_blackboard_entry *entries;
	size_t num_entries;
	/** create: the QoS (NULL: defaults); open: minimums (NULL: none),
	 * FLOE_E_QOS_MISMATCH if the blackboard offers less */
	const struct floe_blackboard_qos *qos;
	const struct floe_attribute *attributes;
	size_t num_attributes;
	uint32_t mode; /**< as in struct floe_service_opts */
};

/** Create a blackboard (FLOE_E_EXISTS if it exists); @opts is required
 * and must name at least one entry. */
int floe_blackboard_create(floe_node *node, const char *name,
			   const struct floe_blackboard_opts *opts,
			   floe_blackboard **out);
/** Open an existing blackboard; @opts may be NULL. */
int floe_blackboard_open(floe_node *node, const char *name,
			 const struct floe_blackboard_opts *opts,
			 floe_blackboard **out);
/** Leave the blackboard; its writer and readers must be destroyed
 * first (else abort). Its shared state is removed once no live node uses
 * it. */
void floe_blackboard_close(floe_blackboard *bb);
const char *floe_blackboard_name(const floe_blackboard *bb);
/** Number of entries. */
size_t floe_blackboard_num_entries(const floe_blackboard *bb);
/** Key of entry @index (creation order, < num_entries) in *@key; 0, or
 * FLOE_E_INVALID. */
int floe_blackboard_key(const floe_blackboard *bb, size_t index,
			uint64_t *key);

/** Create the writer; FLOE_E_PORT_LIMIT while another live writer
 * exists (a dead one's slot is reclaimed). */
int floe_writer_create(floe_blackboard *bb, floe_writer **out);
/** Destroy; a loaned, unpublished value is dropped. */
void floe_writer_destroy(floe_writer *writer);
/**
 * Copy @size bytes (exactly the entry's size, else FLOE_E_TYPE_MISMATCH)
 * into entry @key and publish them; FLOE_E_NO_KEY for an unknown key.
 */
int floe_writer_write(floe_writer *writer, uint64_t key, const void *value,
		      size_t size);
/**
 * Zero-copy write: *@value points at the entry's unpublished slot, to be
 * filled in place (its old contents are unspecified) and published with
 * floe_writer_publish. Loaning an entry that is already loaned returns the
 * same slot; floe_writer_write on it publishes and ends the loan.
 */
int floe_writer_loan(floe_writer *writer, uint64_t key, void **value);
/** Publish the loaned slot of @key; FLOE_E_INVALID if it is not loaned. */
int floe_writer_publish(floe_writer *writer, uint64_t key);

/** Create a reader; FLOE_E_PORT_LIMIT beyond max_readers. */
int floe_reader_create(floe_blackboard *bb, floe_reader **out);
void floe_reader_destroy(floe_reader *reader);
/**
 * Copy entry @key's latest value into @buf (@size: exactly the entry's
 * size, else FLOE_E_TYPE_MISMATCH). @generation (may be NULL) receives
 * how many writes that value is after creation (0: the initial value).
 * Lock-free; FLOE_E_BUSY only if the value was overwritten during each of
 * very many attempts (a writer that never pauses, or a hostile one).
 */
int floe_reader_read(floe_reader *reader, uint64_t key, void *buf,
		     size_t size, uint64_t *generation);
/** The generation of entry @key's latest value, without copying it. */
int floe_reader_generation(floe_reader *reader, uint64_t key,
			   uint64_t *generation);
/** 1 if entry @key changed since this reader last read it, else 0 (or
 * an error). */
int floe_reader_changed(floe_reader *reader, uint64_t key);

/** Called once per key that changed, in creation order of the keys. */
typedef void (*floe_blackboard_cb)(uint64_t key, void *ctx);

/**
 * Report the keys written since the last wait, sleeping up to @timeout_ns
 * (0: don't sleep; UINT64_MAX: forever) for the first. Returns how many
 * keys were reported, 0 when the timeout passed. @cb may be NULL.
 */
int floe_reader_wait(floe_reader *reader, uint64_t timeout_ns,
		     floe_blackboard_cb cb, void *ctx);
/** The reader's listener on the blackboard's event service, owned by the
 * reader: attach it to a waitset, then call floe_reader_wait(reader, 0,
 * ...) when it is NOTIFIED. */
floe_listener *floe_reader_listener(floe_reader *reader);

/* ------------------------------------------------------------------ */
/* Discovery                                                          */
/* ------------------------------------------------------------------ */

enum floe_pattern_kind {
	FLOE_PATTERN_KIND_PUBSUB = 1,
	FLOE_PATTERN_KIND_EVENT = 2,
	FLOE_PATTERN_KIND_REQUEST_RESPONSE = 3,
	FLOE_PATTERN_KIND_BLACKBOARD = 4,
};

struct floe_service_info {
	char name[FLOE_NAME_LEN + 1];
	enum floe_pattern_kind pattern;
	char type_name[FLOE_TYPE_NAME_LEN + 1];
	uint64_t type_size;
	uint64_t type_align;
	struct floe_pubsub_qos qos;        /**< publish-subscribe services */
	struct floe_event_qos event_qos;   /**< event services */
	struct floe_blackboard_qos blackboard_qos; /**< blackboards */
	uint32_t blackboard_entries;       /**< blackboards: entries */
	/** request-response services (type_* is the request type) */
	struct floe_rr_qos rr_qos;
	char response_type_name[FLOE_TYPE_NAME_LEN + 1];
	uint64_t response_type_size;
	uint64_t response_type_align;
	uint32_t mode;
	uint32_t num_attributes;
	struct {
		char key[FLOE_ATTR_KEY_LEN + 1];
		char value[FLOE_ATTR_VALUE_LEN + 1];
	} attributes[FLOE_MAX_ATTRIBUTES];
	/** slots taken right now (some may belong to dead ports not yet
	 * reclaimed) */
	uint32_t nodes;
	uint32_t publishers; /**< or notifiers, or writers, or clients */
	uint32_t subscribers; /**< or listeners, or readers, or servers */
};

/**
 * Call @cb for every service of @node's domain that this process may read
 * (any pattern). Return non-zero from @cb to stop. Returns the number of
 * services visited or an error.
 */
int floe_service_list(floe_node *node,
		      int (*cb)(const struct floe_service_info *info, void *ctx),
		      void *ctx);

enum floe_port_role {
	FLOE_PORT_NODE = 1,
	FLOE_PORT_PUBLISHER = 2,
	FLOE_PORT_SUBSCRIBER = 3,
	FLOE_PORT_NOTIFIER = 4,
	FLOE_PORT_LISTENER = 5,
	FLOE_PORT_CLIENT = 6,
	FLOE_PORT_SERVER = 7,
	FLOE_PORT_WRITER = 8,
	FLOE_PORT_READER = 9,
};

/** "publisher", "subscriber", ... for a role; "unknown" out of range. */
const char *floe_port_role_name(enum floe_port_role role);

struct floe_port_info {
	uint64_t id;
	uint64_t node_id;
	enum floe_port_role role;
	/** FLOE_NODE_ALIVE, FLOE_NODE_DEAD, or FLOE_NODE_INACCESSIBLE */
	enum floe_node_state state;
	char service[FLOE_NAME_LEN + 1];
	enum floe_pattern_kind pattern;
	/**
	 * Traffic since the port was created, counted by the port itself
	 * (publish-subscribe and request-response ports, and notifiers'
	 * events in sent; 0 for others):
	 * samples (requests, responses) and payload bytes it sent and
	 * received; queued samples a newer one pushed out of a full queue
	 * (safe overflow); deliveries it dropped because a queue was full
	 * (or its receiver held too much). Rates are differences of two
	 * readings of the same port id. A hostile peer can falsify them.
	 */
	uint64_t sent;
	uint64_t sent_bytes;
	uint64_t received;
	uint64_t received_bytes;
	uint64_t overflowed;
	uint64_t undelivered;
};

/**
 * Call @cb for every port (node membership, publisher, subscriber,
 * notifier, listener, writer, reader, client, server) of every readable
 * service in the domain. Returns
 * the number visited or an error.
 */
int floe_port_list(floe_node *node,
		   int (*cb)(const struct floe_port_info *info, void *ctx),
		   void *ctx);

/* ------------------------------------------------------------------ */
/* Watching the domain                                                */
/* ------------------------------------------------------------------ */

typedef struct floe_watch floe_watch;

enum floe_watch_event_kind {
	FLOE_WATCH_NODE_CREATED = 1,
	FLOE_WATCH_NODE_DEAD = 2,
	/** left in order, or cleaned up after its death */
	FLOE_WATCH_NODE_REMOVED = 3,
	FLOE_WATCH_SERVICE_CREATED = 4,
	FLOE_WATCH_SERVICE_REMOVED = 5,
	FLOE_WATCH_PORT_CREATED = 6,
	/** its node died; its slot is reclaimed later (PORT_REMOVED) */
	FLOE_WATCH_PORT_DEAD = 7,
	FLOE_WATCH_PORT_REMOVED = 8,
};

struct floe_watch_event {
	enum floe_watch_event_kind kind;
	/** NODE_*: the node; PORT_*: the port's node */
	uint64_t node_id;
	/** NODE_*: its process */
	int32_t pid;
	/** NODE_*: the node's name; SERVICE_*, PORT_*: the service's */
	char name[FLOE_NAME_LEN + 1];
	/** SERVICE_*, PORT_* */
	enum floe_pattern_kind pattern;
	/** PORT_*: its id and role (a node's membership of a service is a
	 * port too: FLOE_PORT_NODE) */
	uint64_t port_id;
	enum floe_port_role role;
};

typedef void (*floe_watch_cb)(const struct floe_watch_event *event,
			      void *ctx);

/**
 * Watch @node's domain: what exists now is the starting point; later
 * changes are reported by the waits below, nodes before their services
 * before their ports. Costs nothing while nothing changes: shm watches
 * /dev/shm with inotify (a node's death closes its record there); the
 * module announces deaths on /dev/floe and segments are looked for every
 * 200 ms. One descriptor set of its own (floe_watch_fd).
 */
int floe_watch_create(floe_node *node, floe_watch **out);
void floe_watch_destroy(floe_watch *watch);
/** Report what changed since the last look, if anything may have: the
 * number of events reported (0: none), or an error. Never sleeps. */
int floe_watch_try_wait(floe_watch *watch, floe_watch_cb cb, void *ctx);
/** As try_wait, sleeping up to @timeout_ns (UINT64_MAX: forever) for
 * the first change. */
int floe_watch_timed_wait(floe_watch *watch, uint64_t timeout_ns,
			  floe_watch_cb cb, void *ctx);
/** Readable when floe_watch_try_wait may have something to report (it
 * empties it). Owned by the watch. */
int floe_watch_fd(floe_watch *watch);
/** Attach a watch to a waitset: CHANGED when floe_watch_try_wait may
 * report something (call it in the callback). */
int floe_waitset_attach_watch(floe_waitset *ws, floe_watch *watch,
			      void *user);

#ifdef __cplusplus
}
#endif

#endif /* FLOE_H */

// SPDX-License-Identifier: MIT
/*
 * A hostile peer writes into a request-response service while requests,
 * responses and end-of-stream markers are in flight: slots, both
 * directions' connection queues and the chunks (headers, with the flag a
 * client sets when it drops a pending response, and payloads) of requests
 * and responses. Then the
 * client receives its streams, the server takes the queued requests and
 * answers them, a second server and a second client come and go, and
 * everything is closed. Nothing of that may crash or hang, and every call
 * must return a result its documentation allows.
 *
 * An input without patches must see the protocol work exactly: every
 * response arrives on its own stream, and each stream ends once its
 * servers dropped their requests.
 *
 * Regions: 0 the segment from its slots on, 1 the request connections,
 * 2 the response connections, 3 the request chunks, 4 the response
 * chunks. (Test of internals: it reaches the segment
 * through the library's private headers.)
 */
#include "fuzz_common.h"
#include "rr.h"

#define NCHANNELS 4
#define NSERVERS 2

/* payload bytes are read into this, so the reads cannot be optimised away */
static volatile uint8_t fz_sink;

struct msg {
	uint64_t seq;
	uint64_t check;
};

static const struct floe_rr_opts rr_opts_proto = {
	.request_type = { "fuzz.Req", sizeof(struct msg), 8 },
	.response_type = { "fuzz.Resp", sizeof(struct msg), 8 },
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup("rr");
	return 0;
}


static void touch(const void *payload, uint64_t size)
{
	const uint8_t *p = payload;

	for (uint64_t k = 0; k < size; k++)
		fz_sink ^= p[k];
}

/* Widen [*lo, *hi) to hold the chunk whose payload is @payload. */
static void span(char **lo, char **hi, void *payload, uint64_t payload_off)
{
	char *start = (char *)payload - payload_off;
	char *end = (char *)payload + sizeof(struct msg);

	if (!*lo || start < *lo)
		*lo = start;
	if (!*hi || end > *hi)
		*hi = end;
}

/* Loan, fill and send a request; its payload pointer goes to @payload. */
static int request(floe_client *c, uint64_t seq, bool forget,
		   floe_pending_response **p, void **payload)
{
	floe_request_mut *r;
	struct msg *m;
	int ret = fz_ret(floe_client_loan(c, 1, &r), 0);

	if (ret)
		return ret;
	m = floe_request_mut_payload(r);
	*m = (struct msg){ seq, ~seq };
	if (payload)
		*payload = m;
	ret = forget ? floe_request_mut_send_fire_and_forget(r)
		     : floe_request_mut_send(r, p);
	fz_ret(ret, NSERVERS);
	if (ret < 0)
		floe_request_mut_discard(r);
	return ret;
}

static int respond(floe_active_request *a, uint64_t seq, void **payload)
{
	floe_response_mut *r;
	struct msg *m;
	int ret = fz_ret(floe_active_request_loan(a, 1, &r), 0);

	if (ret)
		return ret;
	m = floe_response_mut_payload(r);
	*m = (struct msg){ seq, ~seq };
	if (payload)
		*payload = m;
	return fz_ret(floe_response_mut_send(r), 1);
}

/*
 * Take what stream @p has, reading every payload byte the library vouches
 * for; responses must carry the sequence numbers in @want (unpatched
 * runs), and the stream must then say @end.
 */
static void drain(floe_pending_response *p, const uint64_t *want, int nwant,
		 int end)
{
	const floe_response *held[4];
	int nheld = 0, n = 0, ret = 1;

	for (int i = 0; i < 16; i++) {
		const floe_response *r = NULL;
		const struct msg *m;
		uint64_t seq;

		ret = fz_ret(floe_pending_response_receive(p, &r), 1);
		if (ret != 1)
			break;
		touch(floe_response_payload(r), floe_response_payload_size(r));
		if (floe_response_payload_size(r) !=
		    floe_response_len(r) * sizeof(struct msg))
			abort();
		m = floe_response_payload(r);
		seq = floe_response_len(r) ? m->seq : 0;
		fz_expect(n < nwant && floe_response_len(r) == 1 && seq == want[n],
		       "response out of order");
		n++;
		/* hold some across receives, release the rest at once */
		if (nheld < 4 && (i & 1))
			held[nheld++] = r;
		else
			floe_response_release(r);
	}
	fz_expect(n == nwant && ret == end, "stream ends wrong");
	if (floe_pending_response_servers(p) > NSERVERS)
		abort();
	while (nheld)
		floe_response_release(held[--nheld]);
}

/*
 * Take every queued request: answer those expecting answers @nresp times
 * (unpatched, their clients must be @listening), then drop them all,
 * ending their streams. Returns how many it took.
 */
static int serve(floe_server *srv, int nresp, bool listening)
{
	floe_active_request *a[8];
	floe_response_mut *r;
	int n = 0, taken;

	while (n < 8 && fz_ret(floe_server_receive(srv, &a[n]), 1) == 1) {
		uint64_t size = floe_active_request_payload_size(a[n]);
		const struct msg *m = floe_active_request_payload(a[n]);
		uint64_t seq = floe_active_request_len(a[n]) ? m->seq : 0;

		touch(m, size);
		if (size != floe_active_request_len(a[n]) * sizeof(struct msg))
			abort();
		if (floe_active_request_is_fire_and_forget(a[n])) {
			if (floe_active_request_loan(a[n], 1, &r) !=
			    FLOE_E_NO_RESPONSE)
				abort();
		} else {
			fz_expect(floe_active_request_is_connected(a[n]) ==
				       listening,
			       "is_connected");
			for (int k = 0; k < nresp; k++)
				respond(a[n], seq * 10 + (uint64_t)k, NULL);
		}
		n++;
	}
	(void)floe_server_has_requests(srv);
	fz_ret(floe_server_update_connections(srv), 0);
	taken = n;
	while (n)
		floe_active_request_drop(a[--n]);
	return taken;
}

static floe_active_request *take(floe_server *srv)
{
	floe_active_request *a = NULL;

	if (floe_server_receive(srv, &a) != 1)
		abort();
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct floe_rr_opts opts = rr_opts_proto;
	floe_pending_response *pa, *pb, *pc, *pd, *pe;
	floe_active_request *aa, *ac;
	floe_server *srv, *late_srv = NULL;
	floe_client *cli, *late_cli = NULL;
	floe_node *node = fz_node("fuzz");
	char *req_lo = NULL, *req_hi = NULL, *resp_lo = NULL, *resp_hi = NULL;
	struct fz_region regions[5];
	struct floe_rr_qos qos;
	uint64_t resp_off;
	floe_service *svc;
	int ret;
	char *base;
	void *p;

	floe_rr_qos_init(&qos);
	qos.max_clients = 2;
	qos.max_servers = NSERVERS;
	qos.max_nodes = 4;
	qos.max_active_requests_per_client = NCHANNELS;
	qos.max_response_buffer_size = 4;
	qos.enable_fire_and_forget = true;
	opts.qos = &qos;
	if (floe_rr_create(node, "fuzz/rr", &opts, &svc) ||
	    floe_server_create(svc, NULL, &srv) ||
	    floe_client_create(svc, NULL, &cli))
		abort();
	resp_off = svc->dirs[1].payload_offset;

	/*
	 * In flight: request A answered once (stream open), C answered and
	 * ended (response and marker queued), B and fire-and-forget F
	 * queued at the server.
	 */
	if (request(cli, 1, false, &pa, &p) != 1)
		abort();
	span(&req_lo, &req_hi, p, svc->dirs[0].payload_offset);
	if (request(cli, 3, false, &pc, &p) != 1)
		abort();
	span(&req_lo, &req_hi, p, svc->dirs[0].payload_offset);
	aa = take(srv);
	ac = take(srv);
	if (respond(aa, 10, &p) != 1)
		abort();
	span(&resp_lo, &resp_hi, p, resp_off);
	if (respond(ac, 30, &p) != 1)
		abort();
	span(&resp_lo, &resp_hi, p, resp_off);
	floe_active_request_drop(ac);
	if (request(cli, 2, false, &pb, &p) != 1)
		abort();
	span(&req_lo, &req_hi, p, svc->dirs[0].payload_offset);
	if (request(cli, 6, true, NULL, &p) != 1)
		abort();
	span(&req_lo, &req_hi, p, svc->dirs[0].payload_offset);

	base = svc->seg.addr;
	regions[0] = (struct fz_region){
		base + svc->lay.slots_off[FLOE_SLOT_NODE],
		svc->lay.size - svc->lay.slots_off[FLOE_SLOT_NODE]
	};
	regions[1] = (struct fz_region){ base + svc->dirs[0].conns_off,
					 svc->dirs[1].conns_off -
						 svc->dirs[0].conns_off };
	regions[2] = (struct fz_region){ base + svc->dirs[1].conns_off,
					 svc->lay.size - svc->dirs[1].conns_off };
	regions[3] = (struct fz_region){ req_lo, (size_t)(req_hi - req_lo) };
	regions[4] = (struct fz_region){ resp_lo, (size_t)(resp_hi - resp_lo) };
	fz_unpatched = len < 4;
	fz_patch(data, len, regions, 5);
	atomic_fetch_add(&svc->hdr->changes, 1);

	drain(pc, (const uint64_t[]){ 30 }, 1, FLOE_E_END_OF_STREAM);
	drain(pa, (const uint64_t[]){ 10 }, 1, 0);
	fz_expect(serve(srv, 2, true) == 2, "serve B and F");
	fz_expect(respond(aa, 11, NULL) == 1, "respond to A");
	floe_active_request_drop(aa);
	drain(pb, (const uint64_t[]){ 20, 21 }, 2, FLOE_E_END_OF_STREAM);
	drain(pa, (const uint64_t[]){ 11 }, 1, FLOE_E_END_OF_STREAM);

	/* a second server and a second client join the streams */
	if (fz_ret(floe_server_create(svc, NULL, &late_srv), 0))
		late_srv = NULL;
	if (fz_ret(floe_client_create(svc, NULL, &late_cli), 0))
		late_cli = NULL;
	/* a send that reached no server (connections patched away) still
	 * gives a pending response, to be dropped */
	ret = request(cli, 4, false, &pd, NULL);
	fz_expect(ret == 2, "request D reaches both servers");
	if (ret > 0) {
		if (late_srv)
			serve(late_srv, 1, true);
		serve(srv, 1, true);
		drain(pd, (const uint64_t[]){ 40, 40 }, 2,
		      FLOE_E_END_OF_STREAM);
	}
	if (ret >= 0)
		floe_pending_response_drop(pd);
	ret = late_cli ? request(late_cli, 5, false, &pe, NULL) : -1;
	if (ret >= 0)
		/* nobody listens any more: the answers go nowhere */
		floe_pending_response_drop(pe);
	if (ret > 0) {
		fz_expect(serve(srv, 1, false) == 1, "serve E");
		if (late_srv)
			serve(late_srv, 1, false);
	}
	floe_pending_response_drop(pa);
	floe_pending_response_drop(pb);
	floe_pending_response_drop(pc);
	/* clients first: a leaving server waits for them to drain */
	floe_client_destroy(late_cli);
	floe_client_destroy(cli);
	floe_server_destroy(late_srv);
	floe_server_destroy(srv);
	floe_service_close(svc);
	floe_node_destroy(node);
	fz_sweep();
	return 0;
}

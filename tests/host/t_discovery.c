// SPDX-License-Identifier: MIT
/*
 * Discovery: floe_service_list reports every service of the domain with
 * its type, QoS, attributes and port counts; floe_port_list reports every
 * port with its role and liveness, including ports of a process that was
 * SIGKILLed (dead until reclaimed). Nothing of another domain shows up.
 */
#include "helpers.h"

#define SERVICES 3

struct seen {
	int services, matched, ports_alive, ports_dead, publishers, subscribers;
	int other_domain;
};

static int on_service(const struct floe_service_info *info, void *ctx)
{
	struct seen *s = ctx;
	char want[32];

	s->services++;
	for (int i = 0; i < SERVICES; i++) {
		snprintf(want, sizeof(want), "t/disc/%d", i);
		if (!strcmp(info->name, want) &&
		    !strcmp(info->type_name, "t_disc.U64") &&
		    info->type_size == 8 && info->type_align == 8 &&
		    info->pattern == FLOE_PATTERN_KIND_PUBSUB &&
		    info->qos.max_subscribers == 8 + (uint32_t)i &&
		    info->num_attributes == 1 &&
		    !strcmp(info->attributes[0].key, "index") &&
		    atoi(info->attributes[0].value) == i)
			s->matched++;
	}
	if (!strcmp(info->name, "t/disc/other"))
		s->other_domain++;
	return 0;
}

static int on_port(const struct floe_port_info *info, void *ctx)
{
	struct seen *s = ctx;

	s->ports_alive += info->state == FLOE_NODE_ALIVE;
	s->ports_dead += info->state == FLOE_NODE_DEAD;
	s->publishers += info->role == FLOE_PORT_PUBLISHER;
	s->subscribers += info->role == FLOE_PORT_SUBSCRIBER;
	return 0;
}

static int open_service(floe_node *node, int i, floe_service **svc)
{
	struct floe_pubsub_qos qos;
	char name[32], value[8];
	struct floe_attribute attr = { "index", value };
	struct floe_service_opts o = {
		.type = th_type("t_disc.U64", 8, 8),
		.qos = &qos,
		.attributes = &attr,
		.num_attributes = 1,
	};

	floe_pubsub_qos_init(&qos);
	qos.max_subscribers = 8 + (uint32_t)i;
	snprintf(name, sizeof(name), "t/disc/%d", i);
	snprintf(value, sizeof(value), "%d", i);
	return floe_service_open_or_create(node, name, &o, svc);
}

static int port_holder(void *arg)
{
	struct th_pipe *ready = arg;
	floe_node *node = th_node("holder");
	floe_service *svc;
	floe_publisher *pub;
	floe_subscriber *sub;

	if (!node || open_service(node, 0, &svc) ||
	    floe_publisher_create(svc, NULL, &pub) ||
	    floe_subscriber_create(svc, NULL, &sub))
		return 1;
	th_send_u64(ready, 1);
	for (;;)
		pause(); /* until SIGKILLed */
}

int main(void)
{
	const char *domain = th_setup("disc");
	floe_service *svc[SERVICES], *foreign_svc;
	struct floe_node_opts other = { .domain = "tdiscother" };
	floe_node *node, *foreign;
	struct th_pipe ready;
	struct seen s = { 0 };
	uint64_t v;
	pid_t child;
	int ok = 1;

	tap_plan(9);
	node = th_node("disc");
	tap_require(node != NULL, "node");
	for (int i = 0; i < SERVICES; i++)
		ok &= open_service(node, i, &svc[i]) == 0;
	tap_require(ok, "%d services created", SERVICES);
	tap_require(floe_node_create("foreign", &other, &foreign) == 0 &&
			    open_service(foreign, 0, &foreign_svc) == 0,
		    "a service of the same kind in another domain");
	th_pipe_init(&ready);
	child = th_fork(port_holder, &ready);
	tap_require(th_recv_u64(&ready, &v, 10000) == 0, "child holds ports");

	tap_eq(floe_service_list(node, on_service, &s), SERVICES,
	       "floe_service_list visits exactly this domain's services");
	tap_ok(s.matched == SERVICES && s.other_domain == 0,
	       "each reported with type, QoS and attributes (%d matched)",
	       s.matched);
	floe_port_list(node, on_port, &s);
	tap_ok(s.publishers == 1 && s.subscribers == 1 && s.ports_dead == 0,
	       "the child's publisher and subscriber are listed alive");

	th_kill(child);
	memset(&s, 0, sizeof(s));
	floe_port_list(node, on_port, &s);
	tap_ok(s.ports_dead == 3 || (s.ports_dead == 0 && s.publishers == 0),
	       "after SIGKILL its ports read dead (or are already reclaimed): "
	       "%d dead", s.ports_dead);
	floe_node_cleanup_dead(node);
	memset(&s, 0, sizeof(s));
	floe_port_list(node, on_port, &s);
	tap_ok(s.ports_dead == 0 && s.publishers == 0 && s.subscribers == 0 &&
		       s.ports_alive == SERVICES,
	       "cleanup leaves only live ports (%d alive)", s.ports_alive);

	for (int i = 0; i < SERVICES; i++)
		floe_service_close(svc[i]);
	floe_service_close(foreign_svc);
	floe_node_destroy(foreign);
	floe_node_destroy(node);
	(void)domain;
	return tap_done();
}

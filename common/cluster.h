/* cluster.h - Redis Cluster under rds (docs/DESIGN.md §4, "Redis Cluster"):
 * the slot map, one plain rds connection per master, routing of each command
 * to the master owning its keys' slot, MOVED/ASK/TRYAGAIN, and pipelines
 * spread over several nodes. rds.c calls these when its URL is
 * redis-cluster://; nothing above rds knows about them. Return convention as
 * rds: 0 / a reply, or -1 / NULL with top->err and top->errstr set. */
#ifndef SYNCQ_CLUSTER_H
#define SYNCQ_CLUSTER_H

#include <stddef.h> /* for size_t */

#include "rds.h"
#include "url.h"

#define CLUSTER_MAX_SEEDS 16

/* cluster_is_url: the URL names a cluster (redis-cluster://...). */
int cluster_is_url(const char *url);
/* cluster_url_parse reads redis-cluster://[[user]:password@]host[:port][,host[:port]...][/0][?...]
 * into base (credentials, database 0, the first seed) and the seed list
 * ("host:port" strings). Pure. 0, or -1 with err (never quoting a password). */
int cluster_url_parse(const char *s, redis_url *base, char seeds[][80], int *nseeds, char *err, size_t errlen);

/* cluster_connect reads the slot map from the first seed that answers and
 * attaches the cluster to top (top->cl). */
int cluster_connect(rds *top, const char *url, int timeout_ms);
void cluster_free(rds *top);

rds_reply *cluster_cmd(rds *top, int argc, const char **argv, const size_t *lens);
int cluster_append(rds *top, int argc, const char **argv, const size_t *lens);
int cluster_flush(rds *top);
rds_reply *cluster_read(rds *top);
/* cluster_each_master connects every master (running the node hook on new
 * connections) and runs fn on each when fn is not NULL. */
int cluster_each_master(rds *top, int (*fn)(rds *node, void *arg), void *arg);
/* cluster_node_hook: fn runs on every master connection before its first
 * command (the function library check), now and whenever one joins. */
void cluster_node_hook(rds *top, int (*fn)(rds *node, void *arg), void *arg);

#endif

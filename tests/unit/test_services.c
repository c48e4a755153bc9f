/* test_services.c - the services file: a complete DNS provider file, every
 * default, every error with its exact location, ${VAR} expansion, status
 * classes, path templates and lookups. */
#include "fmacros.h"
#include "services.h"
#include "json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char err[1024];

/* A fake environment: NULL-terminated name/value pairs. */
static const char *const *fake_env;
static const char *const default_env[] = {"DNS_TOKEN", "tok-123", "ACCOUNT", "acme", "REG_KEY", "rk-9", NULL};

static const char *
fake_getenv(const char *name)
{
    for (const char *const *p = fake_env; p && *p; p += 2)
        if (strcmp(p[0], name) == 0) return p[1];
    return NULL;
}

/* q turns the test's 'quotes' into JSON's "quotes" (C strings full of \" are
 * hard to read). The result lives until the next call. */
static const char *
q(const char *s)
{
    static char buf[16384];
    size_t n = strlen(s);
    assert_true(n < sizeof(buf));
    for (size_t i = 0; i <= n; i++) buf[i] = s[i] == '\'' ? '"' : s[i];
    return buf;
}

static svc_file *
parse_env(const char *text, const char *const *env)
{
    const char *t = q(text);
    fake_env = env;
    err[0] = '\0';
    return svc_parse(t, strlen(t), fake_getenv, err, sizeof(err));
}

static svc_file *
must_parse(const char *text)
{
    svc_file *f = parse_env(text, default_env);
    if (!f) fail_msg("parse failed: %s", err);
    return f;
}

/* expect_err wants the parse to fail with exactly want. */
static void
expect_err(const char *text, const char *want)
{
    svc_file *f = parse_env(text, default_env);
    if (f) {
        svc_free(f);
        fail_msg("accepted: %s (wanted \"%s\")", q(text), want);
    }
    if (strcmp(err, want) != 0) fail_msg("error\n  \"%s\"\nwanted\n  \"%s\"\nfor %s", err, want, q(text));
}

/* ---------------------------------------------------------------- A complete file */

static const char dns_file[] =
    "{'services': {\n"
    "  'dns': {\n"
    "    'base_url': 'https://api.dns.example.net/v1/',\n"
    "    'headers': {'Authorization': 'Bearer ${DNS_TOKEN}', 'X-Account': 'acct-${ACCOUNT}',\n"
    "                'X-Template': 'literal $${NOT_A_VAR} and $5'},\n"
    "    'connect_timeout_ms': 1500, 'timeout_ms': 20000,\n"
    "    'rate_limit': {'per_second': 50, 'burst': 100},\n"
    "    'resources': {\n"
    "      'records': {\n"
    "        'id_field': 'id',\n"
    "        'hash_fields': ['name', 'type', 'content', 'ttl'],\n"
    "        'natural_key': ['name', 'type'],\n"
    "        'max_delete_share': 0.25,\n"
    "        'every_s': 300, 'scopes': ['example.org', 'example.net'],\n"
    "        'list': {'method': 'GET', 'path': '/zones/{scope}/records', 'items': 'data',\n"
    "                 'pagination': {'style': 'page', 'size': 500, 'size_param': 'per_page',\n"
    "                                'page_param': 'page', 'first_page': 1},\n"
    "                 'max_pages': 2000},\n"
    "        'sync_action': 'sync_records',\n"
    "        'actions': {\n"
    "          'create_record': {'op': 'create', 'method': 'POST', 'path': '/zones/{scope}/records',\n"
    "                            'body': 'payload',\n"
    "                            'status': {'success': [200, 201], 'adopt': [409], 'conflict': [412],\n"
    "                                       'transient': [408, 429, 500, 502, 503, 504], 'permanent': [422]}},\n"
    "          'update_record': {'op': 'update', 'method': 'PUT', 'path': '/zones/{scope}/records/{target_id}'},\n"
    "          'patch_ttl': {'op': 'update', 'method': 'PATCH',\n"
    "                        'path': '/zones/{scope}/records/{target_id}?ttl={payload.ttl}'},\n"
    "          'delete_record': {'op': 'delete', 'method': 'DELETE', 'path': '/zones/{scope}/records/{target_id}'}\n"
    "        }\n"
    "      },\n"
    "      'zones': {\n"
    "        'id_field': 'zone.id',\n"
    "        'list': {'path': '/zones', 'items': 'result.zones',\n"
    "                 'pagination': {'style': 'cursor', 'size': 50, 'cursor_param': 'after',\n"
    "                                'next': 'result.meta.next_cursor'}},\n"
    "        'actions': {'purge_cache': {'op': 'call', 'method': 'POST', 'path': '/zones/{target_id}/purge'}}\n"
    "      },\n"
    "      'changes': {\n"
    "        'list': {'method': 'POST', 'path': '/zones/{scope}/changes/search',\n"
    "                 'pagination': {'style': 'offset', 'size': 1000, 'size_param': 'count',\n"
    "                                'offset_param': 'skip', 'total': 'meta.total'}},\n"
    "        'sync_action': 'pull_changes'\n"
    "      },\n"
    "      'dnssec_keys': {\n"
    "        'list': {'path': '/zones/{scope}/dnssec/keys', 'items': '',\n"
    "                 'pagination': {'style': 'link', 'size': 10, 'page_param': 'p', 'first_page': 0}}\n"
    "      }\n"
    "    }\n"
    "  },\n"
    "  'registrar': {\n"
    "    'base_url': 'http://127.0.0.1:8080',\n"
    "    'headers': {'X-Api-Key': '${REG_KEY}'},\n"
    "    'rate_limit': {'per_second': 2.5},\n"
    "    'resources': {}\n"
    "  }\n"
    "}}\n";

static void
test_dns_file(void **state)
{
    (void)state;
    svc_file *f = must_parse(dns_file);
    assert_int_equal(f->nservices, 2);

    const svc_service *s = &f->services[0];
    assert_string_equal(s->name, "dns");
    assert_string_equal(s->base_url, "https://api.dns.example.net/v1"); /* trailing slash cut */
    assert_int_equal(s->nheaders, 3);
    assert_string_equal(s->headers[0].name, "Authorization");
    assert_string_equal(s->headers[0].value, "Bearer tok-123");
    assert_string_equal(s->headers[1].name, "X-Account");
    assert_string_equal(s->headers[1].value, "acct-acme");
    assert_string_equal(s->headers[2].value, "literal ${NOT_A_VAR} and $5");
    assert_int_equal(s->connect_timeout_ms, 1500);
    assert_int_equal(s->timeout_ms, 20000);
    assert_true(s->rate_per_s == 50);
    assert_int_equal(s->burst, 100);
    assert_int_equal(s->nresources, 4);

    const svc_resource *r = &s->resources[0];
    assert_string_equal(r->name, "records");
    assert_string_equal(r->id_field, "id");
    assert_int_equal(r->nhash, 4);
    assert_string_equal(r->hash_fields[0], "name");
    assert_string_equal(r->hash_fields[3], "ttl");
    assert_int_equal(r->nnatural, 2);
    assert_string_equal(r->natural_key[1], "type");
    assert_true(r->max_delete_share == 0.25);
    assert_int_equal(r->every_s, 300);
    assert_int_equal(r->nscopes, 2);
    assert_string_equal(r->scopes[1], "example.net");
    assert_string_equal(r->list_method, "GET");
    assert_string_equal(r->list_path, "/zones/{scope}/records");
    assert_string_equal(r->items, "data");
    assert_int_equal(r->paging, PAGE_PAGE);
    assert_int_equal(r->page_size, 500);
    assert_string_equal(r->size_param, "per_page");
    assert_string_equal(r->page_param, "page");
    assert_int_equal(r->first_page, 1);
    assert_int_equal(r->max_pages, 2000);
    assert_null(r->next_path);
    assert_null(r->total_path);
    assert_string_equal(r->sync_action, "sync_records");
    assert_int_equal(r->nactions, 4);

    const svc_action *a = &r->actions[0];
    assert_string_equal(a->name, "create_record");
    assert_int_equal(a->op, OP_CREATE);
    assert_string_equal(a->method, "POST");
    assert_string_equal(a->path, "/zones/{scope}/records");
    assert_int_equal(a->body_payload, 1);
    assert_int_equal(a->ncodes[ST_SUCCESS], 2);
    assert_int_equal(a->codes[ST_SUCCESS][1], 201);
    assert_int_equal(a->ncodes[ST_ADOPT], 1);
    assert_int_equal(a->codes[ST_ADOPT][0], 409);
    assert_int_equal(a->ncodes[ST_CONFLICT], 1);
    assert_int_equal(a->ncodes[ST_TRANSIENT], 6);
    assert_int_equal(a->codes[ST_TRANSIENT][5], 504);
    assert_int_equal(a->ncodes[ST_PERMANENT], 1);
    assert_int_equal(r->actions[1].op, OP_UPDATE);
    assert_string_equal(r->actions[1].method, "PUT");
    assert_int_equal(r->actions[1].body_payload, 1);
    assert_string_equal(r->actions[2].method, "PATCH");
    assert_int_equal(r->actions[3].op, OP_DELETE);
    assert_string_equal(r->actions[3].method, "DELETE");
    assert_int_equal(r->actions[3].body_payload, 0);
    assert_int_equal(r->actions[3].ncodes[ST_SUCCESS], 0);

    r = &s->resources[1];
    assert_string_equal(r->name, "zones");
    assert_string_equal(r->id_field, "zone.id");
    assert_string_equal(r->items, "result.zones");
    assert_int_equal(r->paging, PAGE_CURSOR);
    assert_int_equal(r->page_size, 50);
    assert_string_equal(r->size_param, "limit");
    assert_string_equal(r->cursor_param, "after");
    assert_string_equal(r->next_path, "result.meta.next_cursor");
    assert_string_equal(r->sync_action, "sync_zones");
    assert_int_equal(r->actions[0].op, OP_CALL);
    assert_int_equal(r->actions[0].body_payload, 1);

    r = &s->resources[2];
    assert_int_equal(r->paging, PAGE_OFFSET);
    assert_string_equal(r->list_method, "POST");
    assert_string_equal(r->size_param, "count");
    assert_string_equal(r->offset_param, "skip");
    assert_string_equal(r->total_path, "meta.total");
    assert_string_equal(r->sync_action, "pull_changes");
    assert_int_equal(r->nactions, 0);
    assert_null(r->actions);

    r = &s->resources[3];
    assert_int_equal(r->paging, PAGE_LINK);
    assert_string_equal(r->items, "");
    assert_int_equal(r->page_size, 10);
    assert_string_equal(r->size_param, "per_page");
    assert_string_equal(r->page_param, "p");
    assert_int_equal(r->first_page, 0);

    s = &f->services[1];
    assert_string_equal(s->name, "registrar");
    assert_string_equal(s->base_url, "http://127.0.0.1:8080");
    assert_string_equal(s->headers[0].value, "rk-9");
    assert_true(s->rate_per_s == 2.5);
    assert_int_equal(s->burst, 3); /* one second's worth, rounded up */
    assert_int_equal(s->nresources, 0);
    svc_free(f);
}

/* ---------------------------------------------------------------- Defaults */

static void
test_defaults(void **state)
{
    (void)state;
    svc_file *f = must_parse("{'services': {'dns': {'base_url': 'https://api.example.net',"
                             " 'resources': {'records': {"
                             "  'list': {'path': '/zones/{scope}/records', 'pagination': {'style': 'page'}},"
                             "  'actions': {'c': {'op': 'create', 'method': 'POST', 'path': '/r'},"
                             "              'u': {'op': 'update', 'method': 'PUT', 'path': '/r/{target_id}'},"
                             "              'd': {'op': 'delete', 'method': 'DELETE', 'path': '/r/{target_id}'},"
                             "              'x': {'op': 'call', 'method': 'GET', 'path': '/x'}}}}}}}");
    const svc_service *s = &f->services[0];
    assert_int_equal(s->nheaders, 0);
    assert_int_equal(s->connect_timeout_ms, 2000);
    assert_int_equal(s->timeout_ms, 10000);
    assert_true(s->rate_per_s == 0);
    assert_int_equal(s->burst, 0);
    const svc_resource *r = &s->resources[0];
    assert_string_equal(r->id_field, "id");
    assert_int_equal(r->nhash, 0);
    assert_int_equal(r->nnatural, 0);
    assert_true(r->max_delete_share == 0.5);
    assert_int_equal(r->every_s, 0);
    assert_int_equal(r->nscopes, 0);
    assert_string_equal(r->list_method, "GET");
    assert_string_equal(r->items, "");
    assert_int_equal(r->page_size, 100);
    assert_string_equal(r->size_param, "per_page");
    assert_string_equal(r->page_param, "page");
    assert_int_equal(r->first_page, 1);
    assert_string_equal(r->offset_param, "offset");
    assert_string_equal(r->cursor_param, "cursor");
    assert_null(r->next_path);
    assert_null(r->total_path);
    assert_int_equal(r->max_pages, 10000);
    assert_string_equal(r->sync_action, "sync_records");
    assert_int_equal(r->actions[0].body_payload, 1);
    assert_int_equal(r->actions[1].body_payload, 1);
    assert_int_equal(r->actions[2].body_payload, 0);
    assert_int_equal(r->actions[3].body_payload, 1);
    for (int i = 0; i < 4; i++)
        for (int cls = 0; cls < ST_CLASSES; cls++) assert_int_equal(r->actions[i].ncodes[cls], 0);
    svc_free(f);

    /* size_param follows the style */
    static const struct { const char *style, *extra, *size_param; svc_paging p; } styles[] = {
        {"page", "", "per_page", PAGE_PAGE},
        {"offset", "", "limit", PAGE_OFFSET},
        {"cursor", ", 'next': 'next'", "limit", PAGE_CURSOR},
        {"link", "", "per_page", PAGE_LINK},
    };
    for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "{'services': {'s': {'base_url': 'http://h', 'resources': {'r': {'list': {'path': '/', "
                 "'pagination': {'style': '%s'%s}}}}}}}",
                 styles[i].style, styles[i].extra);
        f = must_parse(text);
        assert_int_equal(f->services[0].resources[0].paging, styles[i].p);
        assert_string_equal(f->services[0].resources[0].size_param, styles[i].size_param);
        svc_free(f);
    }

    /* no services at all is a valid (empty) file */
    f = must_parse("{'services': {}}");
    assert_int_equal(f->nservices, 0);
    svc_free(f);
    svc_free(NULL);
}

/* ---------------------------------------------------------------- Errors */

#define SVC(x) "{'services': {'dns': {'base_url': 'https://api.example.net'" x "}}}"
#define RES(x) SVC(", 'resources': {'records': {" x "}}")
#define LIST "'list': {'path': '/zones/{scope}/records', 'pagination': {'style': 'page'}}"
#define PAGING(x) RES("'list': {'path': '/p', 'pagination': {" x "}}")
#define ACT(x) RES(LIST ", 'natural_key': ['name'], 'actions': {'create_record': {" x "}}")
#define OKACT "'op': 'create', 'method': 'POST', 'path': '/zones/{scope}/records'"

static void
test_errors_structure(void **state)
{
    (void)state;
    expect_err("[]", "top level: must be a JSON object with a \"services\" member");
    expect_err("{}", "services: required");
    expect_err("{'services': []}", "services: must be an object");
    expect_err("{'services': {}, 'servces': {}}",
               "servces: unknown member (expected one of services, plugins)");
    expect_err("{'services': {'dns': 1}}", "services.dns: must be an object");
    expect_err("{'services': {'d n s': {'base_url': 'http://h'}}}",
               "services.d n s: name must be 1..63 characters of A-Z, a-z, 0-9, _, . and -");
    expect_err("{'services': {'dns': {'base_url': 'http://h'}, 'dns': {'base_url': 'http://h'}}}",
               "services.dns: duplicate member");
    expect_err(SVC(", 'timeout': 5"),
               "services.dns.timeout: unknown member (expected one of base_url, headers, connect_timeout_ms, "
               "timeout_ms, rate_limit, resources, exec, actions, auth, tls)");
    expect_err(RES(LIST ", 'hash_feilds': ['a']"),
               "services.dns.resources.records.hash_feilds: unknown member (expected one of id_field, hash_fields, "
               "natural_key, max_delete_share, every_s, scopes, list, sync_action, actions)");
    expect_err(RES("'list': {'path': '/p', 'pagination': {'style': 'page'}, 'item': 'data'}"),
               "services.dns.resources.records.list.item: unknown member (expected one of method, path, items, "
               "pagination, max_pages, exec)");
    expect_err(ACT(OKACT ", 'bdy': 'none'"),
               "services.dns.resources.records.actions.create_record.bdy: unknown member (expected one of op, "
               "method, path, body, status, max_attempts, timeout_ms, idempotency_ttl_s, backoff_base_ms, exec)");
    expect_err(ACT(OKACT ", 'status': {'sucess': [200]}"),
               "services.dns.resources.records.actions.create_record.status.sucess: unknown member (expected one "
               "of success, adopt, conflict, transient, permanent)");
    expect_err(SVC(", 'rate_limit': {'per_second': 1, 'brust': 2}"),
               "services.dns.rate_limit.brust: unknown member (expected one of per_second, burst)");
    expect_err(PAGING("'style': 'page', 'szie': 5"),
               "services.dns.resources.records.list.pagination.szie: unknown member (expected one of style, size, "
               "size_param, page_param, first_page)");
}

static void
test_errors_service(void **state)
{
    (void)state;
    expect_err("{'services': {'dns': {}}}", "services.dns.base_url: required");
    /* no resource is listed by a program: an HTTP service without a base URL would do nothing */
    expect_err("{'services': {'dns': {'resources': {}}}}", "services.dns.base_url: required");
    expect_err("{'services': {'dns': {'base_url': 5}}}", "services.dns.base_url: must be a string");
    expect_err("{'services': {'dns': {'base_url': ''}}}", "services.dns.base_url: must not be empty");
    expect_err("{'services': {'dns': {'base_url': 'ftp://h'}}}",
               "services.dns.base_url: must start with http:// or https://");
    expect_err("{'services': {'dns': {'base_url': 'api.example.net'}}}",
               "services.dns.base_url: must start with http:// or https://");
    expect_err("{'services': {'dns': {'base_url': 'https://'}}}", "services.dns.base_url: must name a host");
    expect_err("{'services': {'dns': {'base_url': 'https://h/v1?x=1'}}}",
               "services.dns.base_url: must not contain blanks, a query or a fragment");
    expect_err("{'services': {'dns': {'base_url': 'https://u:pw@h/v1'}}}",
               "services.dns.base_url: must not carry credentials (use headers)");
    expect_err("{'services': {'dns': {'base_url': 'https://h/{scope}'}}}",
               "services.dns.base_url: must not contain placeholders (paths take them)");
    expect_err(SVC(", 'timeout_ms': 0"), "services.dns.timeout_ms: must be an integer in 1..600000");
    expect_err(SVC(", 'timeout_ms': 600001"), "services.dns.timeout_ms: must be an integer in 1..600000");
    expect_err(SVC(", 'timeout_ms': 1.5"), "services.dns.timeout_ms: must be an integer in 1..600000");
    expect_err(SVC(", 'timeout_ms': '100'"), "services.dns.timeout_ms: must be an integer in 1..600000");
    expect_err(SVC(", 'connect_timeout_ms': -1"), "services.dns.connect_timeout_ms: must be an integer in 1..600000");
    expect_err(SVC(", 'connect_timeout_ms': 5000, 'timeout_ms': 4000"),
               "services.dns.connect_timeout_ms: must not exceed timeout_ms (4000)");
    expect_err(SVC(", 'rate_limit': 5"), "services.dns.rate_limit: must be an object");
    expect_err(SVC(", 'rate_limit': {}"), "services.dns.rate_limit.per_second: required");
    expect_err(SVC(", 'rate_limit': {'per_second': 0}"),
               "services.dns.rate_limit.per_second: must be a number above 0 and at most 1000000");
    expect_err(SVC(", 'rate_limit': {'per_second': 10, 'burst': 0}"),
               "services.dns.rate_limit.burst: must be an integer in 1..1000000");
    expect_err(SVC(", 'resources': []"), "services.dns.resources: must be an object");
    expect_err(SVC(", 'resources': {'records': 'x'}"), "services.dns.resources.records: must be an object");
    expect_err(SVC(", 'resources': {'rec/ords': {}}"),
               "services.dns.resources.rec/ords: name must be 1..63 characters of A-Z, a-z, 0-9, _, . and -");
}

static void
test_errors_headers(void **state)
{
    (void)state;
    expect_err(SVC(", 'headers': []"), "services.dns.headers: must be an object");
    expect_err(SVC(", 'headers': {'X-Key': 5}"), "services.dns.headers.X-Key: must be a string");
    expect_err(SVC(", 'headers': {'Bad Name': 'v'}"), "services.dns.headers.Bad Name: not a valid header name");
    expect_err(SVC(", 'headers': {'Authorization': 'a', 'authorization': 'b'}"),
               "services.dns.headers.authorization: duplicate header (names ignore case)");
    expect_err(SVC(", 'headers': {'Content-Length': '5'}"),
               "services.dns.headers.Content-Length: set by the HTTP client, not configurable");
    expect_err(SVC(", 'headers': {'idempotency-key': 'k'}"),
               "services.dns.headers.idempotency-key: set by the HTTP client, not configurable");
    expect_err(SVC(", 'headers': {'A': '1', 'B': '1', 'C': '1', 'D': '1', 'E': '1', 'F': '1', 'G': '1', 'H': '1',"
                   " 'I': '1', 'J': '1', 'K': '1', 'L': '1', 'M': '1', 'N': '1', 'O': '1', 'P': '1', 'Q': '1'}"),
               "services.dns.headers: at most 16 headers");
    expect_err(SVC(", 'headers': {'Authorization': 'Bearer ${MISSING_TOKEN}'}"),
               "services.dns.headers.Authorization: environment variable MISSING_TOKEN is not set");
    expect_err(SVC(", 'headers': {'X': '${}'}"),
               "services.dns.headers.X: bad ${...} at byte 0 (write ${NAME} with NAME of A-Z, a-z, 0-9 and _, or "
               "$${ for a literal ${)");
    expect_err(SVC(", 'headers': {'X': 'ab${DNS_TOKEN'}"),
               "services.dns.headers.X: bad ${...} at byte 2 (write ${NAME} with NAME of A-Z, a-z, 0-9 and _, or "
               "$${ for a literal ${)");
    expect_err(SVC(", 'headers': {'X': '${9LIVES}'}"),
               "services.dns.headers.X: bad ${...} at byte 0 (write ${NAME} with NAME of A-Z, a-z, 0-9 and _, or "
               "$${ for a literal ${)");
    expect_err(SVC(", 'headers': {'X': '${A-B}'}"),
               "services.dns.headers.X: bad ${...} at byte 0 (write ${NAME} with NAME of A-Z, a-z, 0-9 and _, or "
               "$${ for a literal ${)");
}

static void
test_errors_resource(void **state)
{
    (void)state;
    expect_err(RES(""), "services.dns.resources.records.list: required");
    expect_err(RES("'list': []"), "services.dns.resources.records.list: must be an object");
    expect_err(RES("'list': {'pagination': {'style': 'page'}}"), "services.dns.resources.records.list.path: required");
    expect_err(RES("'list': {'path': 'zones', 'pagination': {'style': 'page'}}"),
               "services.dns.resources.records.list.path: must start with /");
    expect_err(RES("'list': {'path': '/zones/{zone}/records', 'pagination': {'style': 'page'}}"),
               "services.dns.resources.records.list.path: unknown placeholder {zone} (use {scope}, {target_id} or "
               "{payload.FIELD})");
    expect_err(RES("'list': {'path': '/zones/{scope/records', 'pagination': {'style': 'page'}}"),
               "services.dns.resources.records.list.path: unbalanced { or } at byte 7");
    expect_err(RES("'list': {'path': '/zones/}', 'pagination': {'style': 'page'}}"),
               "services.dns.resources.records.list.path: unbalanced { or } at byte 7");
    expect_err(RES("'list': {'path': '/z/{payload.}', 'pagination': {'style': 'page'}}"),
               "services.dns.resources.records.list.path: unknown placeholder {payload.} (use {scope}, {target_id} "
               "or {payload.FIELD})");
    expect_err(RES("'list': {'path': '/z', 'method': 'PUT', 'pagination': {'style': 'page'}}"),
               "services.dns.resources.records.list.method: must be one of GET, POST");
    expect_err(RES("'list': {'path': '/z', 'items': 'a..b', 'pagination': {'style': 'page'}}"),
               "services.dns.resources.records.list.items: must be a dotted path like meta.next");
    expect_err(RES("'list': {'path': '/z', 'items': 7, 'pagination': {'style': 'page'}}"),
               "services.dns.resources.records.list.items: must be a string");
    expect_err(RES("'list': {'path': '/z', 'max_pages': 0, 'pagination': {'style': 'page'}}"),
               "services.dns.resources.records.list.max_pages: must be an integer in 1..1000000");
    expect_err(RES("'list': {'path': '/z', 'max_pages': 1000001, 'pagination': {'style': 'page'}}"),
               "services.dns.resources.records.list.max_pages: must be an integer in 1..1000000");
    expect_err(RES("'id_field': '', " LIST), "services.dns.resources.records.id_field: must not be empty");
    expect_err(RES("'hash_fields': 'name', " LIST),
               "services.dns.resources.records.hash_fields: must be an array of strings");
    expect_err(RES("'hash_fields': ['name', 3], " LIST),
               "services.dns.resources.records.hash_fields[1]: must be a non-empty string without control "
               "characters");
    expect_err(RES("'natural_key': ['name', 'type', 'name'], " LIST),
               "services.dns.resources.records.natural_key[2]: duplicate entry \"name\"");
    expect_err(RES("'scopes': ['1','2','3','4','5','6','7','8','9','10','11','12','13','14','15','16','17'], " LIST),
               "services.dns.resources.records.scopes: at most 16 entries");
    expect_err(RES("'max_delete_share': 1.5, " LIST),
               "services.dns.resources.records.max_delete_share: must be a number in 0..1");
    expect_err(RES("'max_delete_share': -0.1, " LIST),
               "services.dns.resources.records.max_delete_share: must be a number in 0..1");
    expect_err(RES("'every_s': 604801, " LIST),
               "services.dns.resources.records.every_s: must be an integer in 0..604800");
    expect_err(RES("'every_s': -1, " LIST), "services.dns.resources.records.every_s: must be an integer in 0..604800");
    expect_err(RES("'sync_action': 'sync records', " LIST),
               "services.dns.resources.records.sync_action: name must be 1..63 characters of A-Z, a-z, 0-9, _, . "
               "and -");
    expect_err(SVC(", 'resources': {'r23456789012345678901234567890123456789012345678901234567890': {" LIST "}}"),
               "services.dns.resources.r23456789012345678901234567890123456789012345678901234567890.sync_action: "
               "name must be 1..63 characters of A-Z, a-z, 0-9, _, . and -");
    expect_err(RES(LIST ", 'actions': []"), "services.dns.resources.records.actions: must be an object");
}

static void
test_errors_pagination(void **state)
{
    (void)state;
    expect_err(RES("'list': {'path': '/p'}"), "services.dns.resources.records.list.pagination: required");
    expect_err(RES("'list': {'path': '/p', 'pagination': 'page'}"),
               "services.dns.resources.records.list.pagination: must be an object");
    expect_err(PAGING("'size': 5"), "services.dns.resources.records.list.pagination.style: required");
    expect_err(PAGING("'style': 'pages'"),
               "services.dns.resources.records.list.pagination.style: must be one of page, offset, cursor, link");
    expect_err(PAGING("'style': 1"),
               "services.dns.resources.records.list.pagination.style: must be one of page, offset, cursor, link");
    expect_err(PAGING("'style': 'page', 'size': 0"),
               "services.dns.resources.records.list.pagination.size: must be an integer in 1..10000");
    expect_err(PAGING("'style': 'page', 'size': 10001"),
               "services.dns.resources.records.list.pagination.size: must be an integer in 1..10000");
    expect_err(PAGING("'style': 'page', 'first_page': -1"),
               "services.dns.resources.records.list.pagination.first_page: must be an integer in 0..1000000");
    expect_err(PAGING("'style': 'page', 'page_param': ''"),
               "services.dns.resources.records.list.pagination.page_param: must not be empty");
    expect_err(PAGING("'style': 'page', 'cursor_param': 'c'"),
               "services.dns.resources.records.list.pagination.cursor_param: not used by style page");
    expect_err(PAGING("'style': 'link', 'offset_param': 'p'"),
               "services.dns.resources.records.list.pagination.offset_param: not used by style link");
    expect_err(PAGING("'style': 'link', 'zise': 5"),
               "services.dns.resources.records.list.pagination.zise: unknown member (expected one of style, size, "
               "size_param, page_param, first_page)");
    expect_err(PAGING("'style': 'offset', 'next': 'n'"),
               "services.dns.resources.records.list.pagination.next: not used by style offset");
    expect_err(PAGING("'style': 'cursor', 'total': 'meta.total', 'next': 'n'"),
               "services.dns.resources.records.list.pagination.total: not used by style cursor");
    expect_err(PAGING("'style': 'cursor'"),
               "services.dns.resources.records.list.pagination.next: required for style cursor (the dotted path of "
               "the next cursor, e.g. meta.next_cursor)");
    expect_err(PAGING("'style': 'cursor', 'next': '.meta'"),
               "services.dns.resources.records.list.pagination.next: must be a dotted path like meta.next");
    expect_err(PAGING("'style': 'offset', 'total': ''"),
               "services.dns.resources.records.list.pagination.total: must not be empty");
    expect_err(PAGING("'style': 'link', 'style': 'page'"),
               "services.dns.resources.records.list.pagination.style: duplicate member");
}

static void
test_errors_actions(void **state)
{
    (void)state;
    const char *at = "services.dns.resources.records.actions.create_record";
    char want[512];
#define WANT(suffix) (snprintf(want, sizeof(want), "%s%s", at, suffix), want)
    expect_err(ACT("'method': 'POST', 'path': '/r'"), WANT(".op: required"));
    expect_err(ACT("'op': 'insert', 'method': 'POST', 'path': '/r'"),
               WANT(".op: must be one of create, update, delete, call"));
    expect_err(ACT("'op': 'create', 'path': '/r'"), WANT(".method: required"));
    expect_err(ACT("'op': 'create', 'method': 'post', 'path': '/r'"),
               WANT(".method: must be one of GET, POST, PUT, PATCH, DELETE"));
    expect_err(ACT("'op': 'create', 'method': 'HEAD', 'path': '/r'"),
               WANT(".method: must be one of GET, POST, PUT, PATCH, DELETE"));
    expect_err(ACT("'op': 'create', 'method': 'POST'"), WANT(".path: required"));
    expect_err(ACT("'op': 'create', 'method': 'POST', 'path': 'https://other.example/r'"),
               WANT(".path: must start with /"));
    expect_err(ACT("'op': 'create', 'method': 'POST', 'path': '/r/{id}'"),
               WANT(".path: unknown placeholder {id} (use {scope}, {target_id} or {payload.FIELD})"));
    expect_err(ACT("'op': 'create', 'method': 'POST', 'path': '/r/{payload.a..b}'"),
               WANT(".path: unknown placeholder {payload.a..b} (use {scope}, {target_id} or {payload.FIELD})"));
    expect_err(ACT("'op': 'create', 'method': 'POST', 'path': '/r x'"),
               WANT(".path: must not contain blanks or #"));
    expect_err(ACT(OKACT ", 'body': 'json'"), WANT(".body: must be one of payload, none"));
    expect_err(ACT(OKACT ", 'status': []"), WANT(".status: must be an object"));
    expect_err(ACT(OKACT ", 'status': {'success': 200}"), WANT(".status.success: must be an array of status codes"));
    expect_err(ACT(OKACT ", 'status': {'success': [200, 99]}"),
               WANT(".status.success[1]: must be an HTTP status code in 100..599"));
    expect_err(ACT(OKACT ", 'status': {'transient': [600]}"),
               WANT(".status.transient[0]: must be an HTTP status code in 100..599"));
    expect_err(ACT(OKACT ", 'status': {'transient': [500.5]}"),
               WANT(".status.transient[0]: must be an HTTP status code in 100..599"));
    expect_err(ACT(OKACT ", 'status': {'transient': ['500']}"),
               WANT(".status.transient[0]: must be an HTTP status code in 100..599"));
    expect_err(ACT(OKACT ", 'status': {'success': [200, 200]}"), WANT(".status.success[1]: 200 is listed twice"));
    expect_err(ACT(OKACT ", 'status': {'adopt': [409], 'conflict': [409]}"),
               WANT(".status.conflict[0]: 409 is already listed under adopt"));
    expect_err(ACT("'op': 'update', 'method': 'PUT', 'path': '/r', 'status': {'adopt': [409]}"),
               WANT(".status.adopt: only a create op can adopt"));
    expect_err(RES(LIST ", 'actions': {'create_record': {" OKACT ", 'status': {'adopt': [409]}}}"),
               WANT(".status.adopt: needs the resource's natural_key to find the existing object"));
    expect_err(ACT(OKACT ", 'status': {'success': [200,201,202,203,204,205,206,207,208,226,200,201,202,203,204,205,"
                   "206]}"),
               WANT(".status.success: at most 16 codes"));
    expect_err(RES(LIST ", 'actions': {'create record': {" OKACT "}}"),
               "services.dns.resources.records.actions.create record: name must be 1..63 characters of A-Z, a-z, "
               "0-9, _, . and -");
    expect_err(RES(LIST ", 'actions': {'create_record': 'POST'}"),
               "services.dns.resources.records.actions.create_record: must be an object");
#undef WANT
}

static void
test_errors_duplicate_actions(void **state)
{
    (void)state;
    /* two resources claim one action name */
    expect_err(SVC(", 'resources': {"
                   "'records': {" LIST ", 'actions': {'purge': {'op': 'call', 'method': 'POST', 'path': '/p'}}},"
                   "'zones': {" LIST ", 'actions': {'purge': {'op': 'call', 'method': 'POST', 'path': '/q'}}}}"),
               "services.dns.resources.zones.actions.purge: action \"purge\" is already claimed by "
               "services.dns.resources.records.actions.purge");
    /* an action named like another resource's sync action */
    expect_err(SVC(", 'resources': {"
                   "'records': {" LIST "},"
                   "'zones': {" LIST ", 'actions': {'sync_records': {'op': 'call', 'method': 'POST', 'path': '/p'}}}}"),
               "services.dns.resources.zones.actions.sync_records: action \"sync_records\" is already claimed by "
               "services.dns.resources.records.sync_action");
    /* a resource's own sync action */
    expect_err(RES(LIST ", 'sync_action': 'refresh', 'actions': {'refresh': {'op': 'call', 'method': 'GET', "
                   "'path': '/p'}}"),
               "services.dns.resources.records.actions.refresh: action \"refresh\" is already claimed by "
               "services.dns.resources.records.sync_action");
    /* two sync actions */
    expect_err(SVC(", 'resources': {'records': {" LIST ", 'sync_action': 'sync'}, 'zones': {" LIST
                   ", 'sync_action': 'sync'}}"),
               "services.dns.resources.zones.sync_action: action \"sync\" is already claimed by "
               "services.dns.resources.records.sync_action");
    /* the same name under two services is fine: jobs name the service */
    svc_file *f = must_parse("{'services': {"
                             "'a': {'base_url': 'http://a', 'resources': {'r': {" LIST "}}},"
                             "'b': {'base_url': 'http://b', 'resources': {'r': {" LIST "}}}}}");
    svc_free(f);
}

static void
test_errors_json(void **state)
{
    (void)state;
    expect_err("", "invalid JSON near byte 0 (line 1, column 1)");
    expect_err("{'services': {,}}", "invalid JSON near byte 15 (line 1, column 16)");
    expect_err("{\n  'services': {\n    'dns': {'base_url': 'http://h',}\n  }\n}",
               "invalid JSON near byte 54 (line 3, column 37)");
    expect_err("{'services': {}} x", "trailing data after JSON value at byte 17 (line 1, column 18)");
}

/* ---------------------------------------------------------------- Secrets */

static void
test_env_expansion(void **state)
{
    (void)state;
    const char *const env[] = {"A", "1", "B_2", "two", "EMPTY", "", "NL", "sekrit\r\nX-Evil: 1", NULL};
    svc_file *f = parse_env(SVC(", 'headers': {'X': '${A}${B_2}-$${A}-$$-$A-${A}}', 'Y': '$${', 'Z': '$'}"), env);
    if (!f) fail_msg("%s", err);
    assert_string_equal(f->services[0].headers[0].value, "1two-${A}-$$-$A-1}");
    assert_string_equal(f->services[0].headers[1].value, "${");
    assert_string_equal(f->services[0].headers[2].value, "$");
    svc_free(f);

    /* empty counts as unset */
    assert_null(parse_env(SVC(", 'headers': {'Authorization': 'Bearer ${EMPTY}'}"), env));
    assert_string_equal(err, "services.dns.headers.Authorization: environment variable EMPTY is not set");

    /* a value that would inject a header line: refused, never shown */
    assert_null(parse_env(SVC(", 'headers': {'Authorization': 'Bearer ${NL}'}"), env));
    assert_string_equal(err, "services.dns.headers.Authorization: the value (after ${...} expansion) must not contain "
                             "control characters");
    assert_null(strstr(err, "sekrit"));

    /* a later error does not echo earlier secrets either */
    const char *const env2[] = {"DNS_TOKEN", "sekrit", NULL};
    assert_null(parse_env(SVC(", 'headers': {'Authorization': 'Bearer ${DNS_TOKEN}', 'X': '${NOPE}'}"), env2));
    assert_string_equal(err, "services.dns.headers.X: environment variable NOPE is not set");
    assert_null(parse_env(SVC(", 'headers': {'Authorization': 'Bearer ${DNS_TOKEN}'}, 'timeout_ms': 0"), env2));
    assert_null(strstr(err, "sekrit"));

    /* values are bounded: 8192 bytes after expansion */
    static char big[8193];
    memset(big, 'x', sizeof(big) - 1);
    const char *const env3[] = {"BIG", big, NULL};
    assert_null(parse_env(SVC(", 'headers': {'X': 'a${BIG}'}"), env3));
    assert_string_equal(err, "services.dns.headers.X: the value is longer than 8192 bytes after ${...} expansion");
    big[8191] = '\0';
    f = parse_env(SVC(", 'headers': {'X': 'a${BIG}'}"), env3);
    if (!f) fail_msg("%s", err);
    assert_int_equal(strlen(f->services[0].headers[0].value), 8192);
    svc_free(f);

    /* NULL lookup: the process environment */
    setenv("SYNCQ_TEST_SVC_TOKEN", "from-env", 1);
    const char *t = q(SVC(", 'headers': {'Authorization': 'Bearer ${SYNCQ_TEST_SVC_TOKEN}'}"));
    f = svc_parse(t, strlen(t), NULL, err, sizeof(err));
    if (!f) fail_msg("%s", err);
    assert_string_equal(f->services[0].headers[0].value, "Bearer from-env");
    svc_free(f);
    unsetenv("SYNCQ_TEST_SVC_TOKEN");
}

/* ---------------------------------------------------------------- Lookups */

static void
test_find_action(void **state)
{
    (void)state;
    svc_file *f = must_parse(dns_file);
    const svc_service *s = NULL;
    const svc_resource *r = NULL;
    const svc_action *a = (const svc_action *)1;
    assert_int_equal(svc_find_action(f, "dns", "update_record", &s, &r, &a), 0);
    assert_string_equal(s->name, "dns");
    assert_string_equal(r->name, "records");
    assert_string_equal(a->name, "update_record");
    assert_int_equal(svc_find_action(f, "dns", "sync_records", &s, &r, &a), 0);
    assert_string_equal(r->name, "records");
    assert_null(a);
    assert_int_equal(svc_find_action(f, "dns", "pull_changes", &s, &r, &a), 0);
    assert_string_equal(r->name, "changes");
    assert_null(a);
    assert_int_equal(svc_find_action(f, "dns", "purge_cache", &s, &r, &a), 0);
    assert_string_equal(r->name, "zones");
    assert_int_equal(a->op, OP_CALL);
    assert_int_equal(svc_find_action(f, "dns", "sync_changes", &s, &r, &a), -1); /* renamed */
    assert_int_equal(svc_find_action(f, "dns", "nope", &s, &r, &a), -1);
    assert_int_equal(svc_find_action(f, "registrar", "update_record", &s, &r, &a), -1);
    assert_int_equal(svc_find_action(f, "nope", "update_record", &s, &r, &a), -1);
    assert_int_equal(svc_find_action(f, "dns", "delete_record", NULL, NULL, NULL), 0);
    assert_int_equal(svc_find_action(NULL, "dns", "delete_record", NULL, NULL, NULL), -1);
    svc_free(f);
}

/* ---------------------------------------------------------------- Exec handlers */

static void
test_exec(void **state)
{
    (void)state;
    svc_file *f = must_parse("{'services': {"
                             "'mailer': {'exec': {'command': ['python3', 'h.py', '--fast'], 'mode': 'persistent',"
                             "                    'env': {'API_KEY': 'k-${REG_KEY}', 'PLAIN': 'x'}, 'cwd': '/srv'},"
                             "           'actions': {'send': {'max_attempts': 3},"
                             "                       'bounce': {'exec': {'command': ['/bin/bounce']}}}},"
                             "'dns': {'base_url': 'https://x.example',"
                             "        'resources': {'records': {'list': {'path': '/r', 'pagination': {'style': 'page'}},"
                             "          'actions': {'create_record': {'op': 'create', 'exec': {'command': ['php', 'c.php']}},"
                             "                      'delete_record': {'op': 'delete', 'method': 'DELETE', 'path': '/r/{target_id}'}}}}}}}");
    const svc_service *s = NULL;
    const svc_resource *r = (const svc_resource *)1;
    const svc_action *a = NULL;
    assert_int_equal(svc_find_action(f, "mailer", "send", &s, &r, &a), 0);
    assert_null(r);
    assert_null(s->base_url);
    assert_int_equal(a->op, OP_CALL);
    assert_int_equal(a->max_attempts, 3);
    assert_int_equal(a->exec.mode, EXEC_PERSISTENT); /* the service's default */
    assert_int_equal(a->exec.argc, 3);
    assert_string_equal(a->exec.argv[0], "python3");
    assert_string_equal(a->exec.argv[2], "--fast");
    assert_null(a->exec.argv[3]);
    assert_int_equal(a->exec.nenv, 2);
    assert_string_equal(a->exec.env[0].name, "API_KEY");
    assert_string_equal(a->exec.env[0].value, "k-rk-9");
    assert_string_equal(a->exec.cwd, "/srv");
    assert_int_equal(svc_find_action(f, "mailer", "bounce", &s, &r, &a), 0);
    assert_int_equal(a->exec.mode, EXEC_PER_JOB); /* its own exec wins whole */
    assert_int_equal(a->exec.argc, 1);
    assert_int_equal(a->exec.nenv, 0);
    assert_null(a->exec.cwd);
    assert_int_equal(svc_find_action(f, "dns", "create_record", &s, &r, &a), 0);
    assert_string_equal(r->name, "records");
    assert_int_equal(a->op, OP_CREATE);
    assert_int_equal(a->exec.mode, EXEC_PER_JOB);
    assert_null(a->method);
    assert_int_equal(svc_find_action(f, "dns", "delete_record", &s, &r, &a), 0);
    assert_int_equal(a->exec.mode, EXEC_NONE);
    assert_string_equal(a->method, "DELETE");
    svc_free(f);
}

static void
test_errors_exec(void **state)
{
    (void)state;
#define EXSVC(body) "{'services': {'m': {" body "}}}"
#define EX(x) EXSVC("'exec': " x ", 'actions': {'send': {}}")
    expect_err(EX("['php']"), "services.m.exec: must be an object");
    expect_err(EX("{}"), "services.m.exec.command: required (the program and its arguments, e.g. [\"php\", \"handler.php\"])");
    expect_err(EX("{'command': []}"), "services.m.exec.command: must be a non-empty array of strings");
    expect_err(EX("{'command': 'php h.php'}"), "services.m.exec.command: must be a non-empty array of strings");
    expect_err(EX("{'command': ['php', '']}"),
               "services.m.exec.command[1]: must be a non-empty string without control characters");
    expect_err(EX("{'command': ['php'], 'mode': 'daemon'}"), "services.m.exec.mode: must be one of per_job, persistent");
    expect_err(EX("{'command': ['php'], 'shell': true}"),
               "services.m.exec.shell: unknown member (expected one of command, mode, env, cwd)");
    expect_err(EX("{'command': ['php'], 'env': {'A-B': 'x'}}"),
               "services.m.exec.env.A-B: not a valid variable name (A-Z, a-z, 0-9 and _)");
    expect_err(EX("{'command': ['php'], 'env': {'A': 1}}"), "services.m.exec.env.A: must be a string");
    expect_err(EX("{'command': ['php'], 'env': {'A': '${NOPE}'}}"),
               "services.m.exec.env.A: environment variable NOPE is not set");
    expect_err(EX("{'command': ['php'], 'cwd': ''}"), "services.m.exec.cwd: must not be empty");
    expect_err(EXSVC("'exec': {'command': ['php']}, 'actions': {'send': {'method': 'POST'}}"),
               "services.m.actions.send.method: not used by an exec action");
    expect_err(EXSVC("'exec': {'command': ['php']}, 'actions': {'send': {'status': {}}}"),
               "services.m.actions.send.status: not used by an exec action");
    expect_err(EXSVC("'base_url': 'https://x.example', 'actions': {'send': {'op': 'call'}}"),
               "services.m.actions.send: an action outside a resource must be an exec action (give it or its service \"exec\")");
    expect_err(EXSVC("'actions': {'send': {'exec': {'command': ['php']}}}"), "services.m.base_url: required");
    expect_err(EXSVC("'exec': {'command': ['php']}, 'resources': {'r': {'list': {'path': '/r', 'pagination': {'style': 'page'}}}}"),
               "services.m.base_url: required by resources (their lists are HTTP requests)");
    expect_err(EXSVC("'base_url': 'https://x.example', 'exec': {'command': ['php']}, 'actions': {'sync_r': {}},"
                   "'resources': {'r': {'list': {'path': '/r', 'pagination': {'style': 'page'}}}}"),
               "services.m.resources.r.sync_action: action \"sync_r\" is already claimed by services.m.actions.sync_r");
#undef EX
#undef EXSVC
}

/* a resource listed by a program (exec sync) */
static void
test_exec_list(void **state)
{
    (void)state;
#define XL(list, more) "{'services': {'crm': {'resources': {'contacts': {'list': " list more "}}}}}"
    svc_file *f = must_parse(XL("{'exec': {'command': ['python3', 'list.py'], 'env': {'K': 'v'}}}", ""));
    const svc_resource *r = &f->services[0].resources[0];
    assert_null(f->services[0].base_url);
    assert_int_equal(r->list_exec.mode, EXEC_PER_JOB);
    assert_int_equal(r->list_exec.argc, 2);
    assert_string_equal(r->list_exec.argv[1], "list.py");
    assert_string_equal(r->list_exec.env[0].value, "v");
    assert_null(r->list_path);
    assert_string_equal(r->sync_action, "sync_contacts");
    const svc_service *s;
    const svc_resource *fr;
    const svc_action *fa = (const svc_action *)1;
    assert_int_equal(svc_find_action(f, "crm", "sync_contacts", &s, &fr, &fa), 0);
    assert_ptr_equal(fr, r);
    assert_null(fa);
    svc_free(f);
    expect_err(XL("{'exec': {'command': ['x']}, 'path': '/r'}", ""),
               "services.crm.resources.contacts.list.path: not used by a list made by a program (exec)");
    expect_err(XL("{'exec': {'command': ['x'], 'mode': 'persistent'}}", ""),
               "services.crm.resources.contacts.list.exec.mode: a sync program runs per_job (one process per sync)");
    expect_err(XL("{'exec': {'command': ['x']}}", ", 'actions': {'update': {'op': 'update', 'method': 'PUT', 'path': '/c'}}"),
               "services.crm.resources.contacts.actions.update: an HTTP action needs the service's base_url");
    expect_err(XL("{'path': '/c', 'pagination': {'style': 'page'}}", ""), "services.crm.base_url: required");
#undef XL
}

/* "plugins": paths of C plugins for the master to load */
static void
test_plugins(void **state)
{
    (void)state;
    svc_file *f = must_parse("{'plugins': ['/usr/lib/syncq/a.so', 'b.so'], 'services': {}}");
    assert_int_equal(f->nplugins, 2);
    assert_string_equal(f->plugins[0], "/usr/lib/syncq/a.so");
    assert_string_equal(f->plugins[1], "b.so");
    svc_free(f);
    expect_err("{'plugins': 'a.so', 'services': {}}", "plugins: must be an array of paths of C plugins (.so files)");
    expect_err("{'plugins': ['a.so', ''], 'services': {}}", "plugins[1]: must be a path without commas or control characters");
    expect_err("{'plugins': ['a.so,b.so'], 'services': {}}", "plugins[0]: must be a path without commas or control characters");
}

static void
test_classify(void **state)
{
    (void)state;
    svc_file *f = must_parse(dns_file);
    const svc_resource *r = &f->services[0].resources[0];
    const svc_action *create = &r->actions[0], *update = &r->actions[1], *del = &r->actions[3];
    static const struct { int status; svc_status_class list, create, update, del; } table[] = {
        /* status  list (NULL)    create         update         delete */
        {200, ST_SUCCESS, ST_SUCCESS, ST_SUCCESS, ST_SUCCESS},
        {201, ST_SUCCESS, ST_SUCCESS, ST_SUCCESS, ST_SUCCESS},
        {204, ST_SUCCESS, ST_SUCCESS, ST_SUCCESS, ST_SUCCESS},
        {299, ST_SUCCESS, ST_SUCCESS, ST_SUCCESS, ST_SUCCESS},
        {100, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT},
        {304, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT},
        {400, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT},
        {401, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT},
        {404, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT, ST_SUCCESS}, /* a delete of what is gone */
        {408, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT},
        {409, ST_PERMANENT, ST_ADOPT, ST_PERMANENT, ST_PERMANENT},
        {410, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT},
        {412, ST_PERMANENT, ST_CONFLICT, ST_PERMANENT, ST_PERMANENT},
        {422, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT},
        {429, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT},
        {499, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT},
        {500, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT},
        {501, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT},
        {503, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT},
        {599, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT, ST_TRANSIENT},
        {0, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT},
        {600, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT, ST_PERMANENT},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        int st = table[i].status;
        if (svc_classify(NULL, st) != table[i].list) fail_msg("list %d -> %d", st, svc_classify(NULL, st));
        if (svc_classify(create, st) != table[i].create) fail_msg("create %d -> %d", st, svc_classify(create, st));
        if (svc_classify(update, st) != table[i].update) fail_msg("update %d -> %d", st, svc_classify(update, st));
        if (svc_classify(del, st) != table[i].del) fail_msg("delete %d -> %d", st, svc_classify(del, st));
    }
    svc_free(f);

    /* explicit lists win over every default, 404 on a delete included */
    f = must_parse(RES(LIST ", 'natural_key': ['name'], 'actions': {"
                            "'d': {'op': 'delete', 'method': 'DELETE', 'path': '/r/{target_id}',"
                            "      'status': {'permanent': [404, 500], 'transient': [400], 'success': [202, 302],"
                            "                 'conflict': [200]}},"
                            "'c': {'op': 'create', 'method': 'POST', 'path': '/r',"
                            "      'status': {'adopt': [422, 409], 'success': [404]}}}"));
    del = &f->services[0].resources[0].actions[0];
    create = &f->services[0].resources[0].actions[1];
    assert_int_equal(svc_classify(del, 404), ST_PERMANENT);
    assert_int_equal(svc_classify(del, 500), ST_PERMANENT);
    assert_int_equal(svc_classify(del, 400), ST_TRANSIENT);
    assert_int_equal(svc_classify(del, 302), ST_SUCCESS);
    assert_int_equal(svc_classify(del, 200), ST_CONFLICT);
    assert_int_equal(svc_classify(del, 201), ST_SUCCESS);
    assert_int_equal(svc_classify(del, 502), ST_TRANSIENT);
    assert_int_equal(svc_classify(create, 422), ST_ADOPT);
    assert_int_equal(svc_classify(create, 409), ST_ADOPT);
    assert_int_equal(svc_classify(create, 404), ST_SUCCESS);
    assert_int_equal(svc_classify(create, 403), ST_PERMANENT);
    svc_free(f);
}

static void
test_expand(void **state)
{
    (void)state;
    char out[256];
    const char *pj = "{\"zone_id\": \"z/1 2\", \"n\": 42, \"neg\": -7, \"big\": 12345678901, \"frac\": 1.5,"
                     " \"empty\": \"\", \"flag\": true, \"nested\": {\"id\": \"in~side\"}, \"u\": \"\\u00e9&=?#%\"}";
    json *payload = json_parse(pj, strlen(pj), err, sizeof(err));
    assert_non_null(payload);

    assert_int_equal(svc_expand("/zones/{scope}/records/{target_id}", "example.org", "abc-123_x.y~z", NULL, out,
                                sizeof(out), err, sizeof(err)),
                     0);
    assert_string_equal(out, "/zones/example.org/records/abc-123_x.y~z");
    assert_int_equal(svc_expand("/zones/{scope}/records/{target_id}", "a b/c", "../x?y#z", NULL, out, sizeof(out), err,
                                sizeof(err)),
                     0);
    assert_string_equal(out, "/zones/a%20b%2Fc/records/..%2Fx%3Fy%23z");
    assert_int_equal(svc_expand("/z/{payload.zone_id}/n/{payload.n}/{payload.neg}/{payload.big}/{payload.frac}",
                                NULL, NULL, payload, out, sizeof(out), err, sizeof(err)),
                     0);
    assert_string_equal(out, "/z/z%2F1%202/n/42/-7/12345678901/1.5");
    assert_int_equal(svc_expand("/x/{payload.nested.id}/{payload.u}?q=1&r={scope}", "s", NULL, payload, out,
                                sizeof(out), err, sizeof(err)),
                     0);
    assert_string_equal(out, "/x/in~side/%C3%A9%26%3D%3F%23%25?q=1&r=s");
    assert_int_equal(svc_expand("/plain", NULL, NULL, NULL, out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "/plain");
    assert_int_equal(svc_expand("", NULL, NULL, NULL, out, sizeof(out), err, sizeof(err)), 0);
    assert_string_equal(out, "");

    /* missing values: named, and out is left empty */
    static const struct { const char *tmpl, *scope, *target, *want; } missing[] = {
        {"/zones/{scope}", NULL, "t", "path needs {scope} but the job has no scope"},
        {"/zones/{scope}", "", "t", "path needs {scope} but the job has no scope"},
        {"/r/{target_id}", "s", NULL, "path needs {target_id} but the job has none"},
        {"/r/{target_id}", "s", "", "path needs {target_id} but the job has none"},
        {"/r/{payload.nope}", "s", "t",
         "path needs {payload.nope} but the payload has no non-empty string or number there"},
        {"/r/{payload.empty}", "s", "t",
         "path needs {payload.empty} but the payload has no non-empty string or number there"},
        {"/r/{payload.flag}", "s", "t",
         "path needs {payload.flag} but the payload has no non-empty string or number there"},
        {"/r/{payload.nested}", "s", "t",
         "path needs {payload.nested} but the payload has no non-empty string or number there"},
        {"/r/{payload.nested.id.x}", "s", "t",
         "path needs {payload.nested.id.x} but the payload has no non-empty string or number there"},
        {"/r/{bogus}", "s", "t", "path template: unknown placeholder {bogus}"},
        {"/r/{scope", "s", "t", "path template: unterminated { at byte 3"},
    };
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        strcpy(out, "junk");
        if (svc_expand(missing[i].tmpl, missing[i].scope, missing[i].target, payload, out, sizeof(out), err,
                       sizeof(err)) != -1)
            fail_msg("%s expanded to %s", missing[i].tmpl, out);
        assert_string_equal(err, missing[i].want);
        assert_string_equal(out, "");
    }
    /* no payload at all */
    assert_int_equal(svc_expand("/r/{payload.n}", "s", "t", NULL, out, sizeof(out), err, sizeof(err)), -1);
    assert_string_equal(err, "path needs {payload.n} but the payload has no non-empty string or number there");

    /* the output bound, exactly */
    char small[8];
    assert_int_equal(svc_expand("/abcdef", NULL, NULL, NULL, small, sizeof(small), err, sizeof(err)), 0);
    assert_string_equal(small, "/abcdef");
    assert_int_equal(svc_expand("/abcdefg", NULL, NULL, NULL, small, sizeof(small), err, sizeof(err)), -1);
    assert_string_equal(err, "the expanded path is longer than 7 bytes");
    assert_string_equal(small, "");
    assert_int_equal(svc_expand("/a/{scope}", "b c", NULL, NULL, small, sizeof(small), err, sizeof(err)), -1);
    assert_int_equal(svc_expand("/a/{scope}", "b/", NULL, NULL, small, sizeof(small), err, sizeof(err)), 0);
    assert_string_equal(small, "/a/b%2F");
    json_free(payload);
}

/* ---------------------------------------------------------------- Files */

static void
test_load(void **state)
{
    (void)state;
    char path[] = "/tmp/test_services.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *t = q(dns_file);
    assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
    close(fd);
    fake_env = default_env;
    svc_file *f = svc_load(path, fake_getenv, err, sizeof(err));
    if (!f) fail_msg("%s", err);
    assert_int_equal(f->nservices, 2);
    svc_free(f);

    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(q(SVC(", 'timeout_ms': 0")), fp);
    fclose(fp);
    assert_null(svc_load(path, fake_getenv, err, sizeof(err)));
    char want[512];
    snprintf(want, sizeof(want), "%s: services.dns.timeout_ms: must be an integer in 1..600000", path);
    assert_string_equal(err, want);

    fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_null(svc_load(path, fake_getenv, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: invalid JSON near byte 0 (line 1, column 1)", path);
    assert_string_equal(err, want);

    /* bounded: a runaway file is refused before it is parsed */
    assert_int_equal(truncate(path, 16 * 1024 * 1024 + 1), 0);
    assert_null(svc_load(path, fake_getenv, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: larger than 16 MiB", path);
    assert_string_equal(err, want);

    unlink(path);
    assert_null(svc_load(path, fake_getenv, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    assert_string_equal(err, want);
    assert_null(svc_load("/", fake_getenv, err, sizeof(err)));
    assert_string_equal(err, "/: read: Is a directory");
}

/* per-action defaults: optional, ranged, 0 when absent */
static void
test_action_defaults(void **state)
{
    (void)state;
#define ACTION_FILE(members) "{'services':{'s':{'base_url':'https://x.example','resources':{'r':{" \
                             "'list':{'path':'/r','pagination':{'style':'page'}}," \
                             "'actions':{'a':{'op':'update','method':'PUT','path':'/r/{target_id}'," members "}}}}}}}"
    char text[2048];
    snprintf(text, sizeof(text), "%s", ACTION_FILE("'max_attempts':8,'timeout_ms':20000,'idempotency_ttl_s':900,'backoff_base_ms':250"));
    svc_file *f = must_parse(text);
    const svc_action *a = &f->services[0].resources[0].actions[0];
    assert_int_equal(a->max_attempts, 8);
    assert_int_equal(a->timeout_ms, 20000);
    assert_int_equal(a->idempotency_ttl_s, 900);
    assert_int_equal(a->backoff_base_ms, 250);
    svc_free(f);
    snprintf(text, sizeof(text), "%s", ACTION_FILE("'body':'none'"));
    f = must_parse(text);
    a = &f->services[0].resources[0].actions[0];
    assert_int_equal(a->max_attempts + a->timeout_ms + a->idempotency_ttl_s + a->backoff_base_ms, 0);
    svc_free(f);
    snprintf(text, sizeof(text), "%s", ACTION_FILE("'max_attempts':0"));
    assert_null(parse_env(text, default_env));
    assert_non_null(strstr(err, "services.s.resources.r.actions.a.max_attempts: must be an integer in 1..1000"));
}

/* ---------------------------------------------------------------- Auth */

static void
test_auth(void **state)
{
    (void)state;
    svc_file *f = must_parse(SVC(", 'auth': {"
        "'oauth2': {'token_url': 'https://auth.example.net/oauth/token', 'client_id': 'app-${ACCOUNT}',"
        "           'client_secret': '${DNS_TOKEN}', 'scope': 'records:write', 'client_auth': 'post'},"
        "'hmac': {'key': '${REG_KEY}', 'algorithm': 'sha512', 'message': '{timestamp}.{body}',"
        "         'header': 'Stripe-Signature', 'format': 't={timestamp},v1={signature}', 'encoding': 'base64',"
        "         'timestamp_header': 'X-Timestamp'}},"
        "'tls': {'ca_file': '/etc/ca.pem', 'cert_file': '/etc/c.crt', 'key_file': '/etc/c.key', 'key_password': '${ACCOUNT}'}"));
    const svc_service *s = &f->services[0];
    assert_non_null(s->oauth2);
    assert_string_equal(s->oauth2->token_url, "https://auth.example.net/oauth/token");
    assert_string_equal(s->oauth2->client_id, "app-acme");
    assert_string_equal(s->oauth2->client_secret, "tok-123");
    assert_string_equal(s->oauth2->scope, "records:write");
    assert_int_equal(s->oauth2->client_auth, OAUTH2_CLIENT_POST);
    assert_non_null(s->hmac);
    assert_string_equal(s->hmac->key, "rk-9");
    assert_int_equal(s->hmac->md, CRYPTO_SHA512);
    assert_int_equal(s->hmac->encoding, SIGN_BASE64);
    assert_string_equal(s->hmac->header, "Stripe-Signature");
    assert_string_equal(s->hmac->timestamp_header, "X-Timestamp");
    assert_string_equal(s->tls.ca_file, "/etc/ca.pem");
    assert_string_equal(s->tls.key_password, "acme");
    svc_free(f);
    /* defaults: basic client auth, no scope, sha256 hex of the body */
    f = must_parse(SVC(", 'auth': {'oauth2': {'token_url': 'https://a/t', 'client_id': 'c', 'client_secret': '${DNS_TOKEN}'},"
                       "'hmac': {'key': '${REG_KEY}', 'header': 'X-Hub-Signature-256'}}"));
    s = &f->services[0];
    assert_int_equal(s->oauth2->client_auth, OAUTH2_CLIENT_BASIC);
    assert_null(s->oauth2->scope);
    assert_int_equal(s->hmac->md, CRYPTO_SHA256);
    assert_int_equal(s->hmac->encoding, SIGN_HEX);
    assert_string_equal(s->hmac->message, "{body}");
    assert_string_equal(s->hmac->format, "{signature}");
    assert_null(s->hmac->timestamp_header);
    assert_null(s->tls.ca_file);
    svc_free(f);
    f = must_parse(SVC(", 'auth': {'aws_sigv4': {'region': 'eu-west-1', 'service': 'execute-api',"
                       " 'access_key_id': '${ACCOUNT}', 'secret_access_key': '${REG_KEY}', 'session_token': '${DNS_TOKEN}'}}"));
    s = &f->services[0];
    assert_non_null(s->sigv4);
    assert_string_equal(s->sigv4->region, "eu-west-1");
    assert_string_equal(s->sigv4->service, "execute-api");
    assert_string_equal(s->sigv4->access_key_id, "acme");
    assert_string_equal(s->sigv4->secret_access_key, "rk-9");
    assert_string_equal(s->sigv4->session_token, "tok-123");
    svc_free(f);
    f = must_parse(SVC(""));
    assert_null(f->services[0].oauth2);
    assert_null(f->services[0].sigv4);
    assert_null(f->services[0].hmac);
    svc_free(f);
}

#define OA(x) SVC(", 'auth': {'oauth2': {'token_url': 'https://a/t', 'client_id': 'c'" x "}}")
#define HM(x) SVC(", 'auth': {'hmac': {'key': '${REG_KEY}'" x "}}")

static void
test_errors_auth(void **state)
{
    (void)state;
    expect_err(SVC(", 'auth': {'basic': {}}"),
               "services.dns.auth.basic: unknown member (expected one of oauth2, hmac, aws_sigv4)");
    expect_err(SVC(", 'auth': {'aws_sigv4': {'region': 'eu-west-1', 'service': 'execute-api', 'access_key_id': 'AK',"
                   " 'secret_access_key': 'plain'}}"),
               "services.dns.auth.aws_sigv4.secret_access_key: must come from the environment: write ${VAR}, not the "
               "secret");
    expect_err(SVC(", 'auth': {'aws_sigv4': {'region': 'eu-west-1', 'access_key_id': 'AK',"
                   " 'secret_access_key': '${REG_KEY}'}}"),
               "services.dns.auth.aws_sigv4.service: required");
    expect_err(SVC(", 'auth': {'oauth2': {'token_url': 'https://a/t', 'client_id': 'c', 'client_secret': '${DNS_TOKEN}'},"
                   " 'aws_sigv4': {'region': 'r', 'service': 's', 'access_key_id': 'AK', 'secret_access_key': '${REG_KEY}'}}"),
               "services.dns.auth.aws_sigv4: excludes auth.oauth2 (both set the Authorization header)");
    expect_err(SVC(", 'headers': {'X-Amz-Date': 'x'}, 'auth': {'aws_sigv4': {'region': 'r', 'service': 's',"
                   " 'access_key_id': 'AK', 'secret_access_key': '${REG_KEY}'}}"),
               "services.dns.auth.aws_sigv4: sets the Authorization and X-Amz-* headers: remove X-Amz-Date from the "
               "service's headers");
    expect_err(OA(""), "services.dns.auth.oauth2.client_secret: required (a ${VAR} naming an environment variable)");
    expect_err(OA(", 'client_secret': 'hunter22'"),
               "services.dns.auth.oauth2.client_secret: must come from the environment: write ${VAR}, not the secret");
    expect_err(OA(", 'client_secret': '${NOPE}'"),
               "services.dns.auth.oauth2.client_secret: environment variable NOPE is not set");
    expect_err(SVC(", 'auth': {'oauth2': {'token_url': 'ftp://a/t', 'client_id': 'c', 'client_secret': '${DNS_TOKEN}'}}"),
               "services.dns.auth.oauth2.token_url: must start with http:// or https://");
    expect_err(OA(", 'client_secret': '${DNS_TOKEN}', 'client_auth': 'jwt'"),
               "services.dns.auth.oauth2.client_auth: must be one of basic, post");
    expect_err(SVC(", 'headers': {'authorization': 'x'}, 'auth': {'oauth2': {'token_url': 'https://a/t', 'client_id': 'c',"
                   " 'client_secret': '${DNS_TOKEN}'}}"),
               "services.dns.auth.oauth2: sets the Authorization header (the bearer token): remove it from the "
               "service's headers");
    expect_err(HM(""), "services.dns.auth.hmac.header: required");
    expect_err(SVC(", 'auth': {'hmac': {'key': 'literal-key', 'header': 'X-S'}}"),
               "services.dns.auth.hmac.key: must come from the environment: write ${VAR}, not the secret");
    expect_err(HM(", 'header': 'X-S', 'algorithm': 'md5'"),
               "services.dns.auth.hmac.algorithm: must be one of sha1, sha256, sha512");
    expect_err(HM(", 'header': 'X S'"), "services.dns.auth.hmac.header: not a valid header name");
    expect_err(HM(", 'header': 'Content-Length'"),
               "services.dns.auth.hmac.header: the header Content-Length is set elsewhere (headers, auth.oauth2 or "
               "the HTTP client)");
    expect_err(HM(", 'header': 'X-S', 'message': '{payload}'"),
               "services.dns.auth.hmac.message: unknown placeholder {payload} (use {method}, {path}, {body} and "
               "{timestamp})");
    expect_err(HM(", 'header': 'X-S', 'format': 'v1'"), "services.dns.auth.hmac.format: must contain {signature}");
    expect_err(HM(", 'header': 'X-S', 'timestamp_header': 'x-s'"),
               "services.dns.auth.hmac.timestamp_header: must differ from header");
    expect_err(SVC(", 'tls': {'key_file': '/k'}"),
               "services.dns.tls.cert_file: required with key_file or key_password (the client certificate)");
    expect_err(SVC(", 'tls': {'ca': '/k'}"),
               "services.dns.tls.ca: unknown member (expected one of ca_file, cert_file, key_file, key_password)");
    expect_err("{'services': {'dns': {'base_url': 'http://h', 'tls': {'ca_file': '/ca'}}}}",
               "services.dns.tls: the service's URLs are not https: TLS settings would never be used");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_file),
        cmocka_unit_test(test_action_defaults),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors_structure),
        cmocka_unit_test(test_errors_service),
        cmocka_unit_test(test_errors_headers),
        cmocka_unit_test(test_errors_resource),
        cmocka_unit_test(test_errors_pagination),
        cmocka_unit_test(test_errors_actions),
        cmocka_unit_test(test_errors_duplicate_actions),
        cmocka_unit_test(test_errors_json),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_find_action),
        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_errors_exec),
        cmocka_unit_test(test_exec_list),
        cmocka_unit_test(test_plugins),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_errors_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

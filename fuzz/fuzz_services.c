/* fuzz_services.c - libFuzzer harness for the services-file parser
 * (common/services.c): svc_parse on the input, then every lookup, status
 * class and path template of what it accepted. Environment references
 * resolve through a fake environment: UNSET* is unset, EMPTY* is empty,
 * CRLF* holds a header-injection attempt, LONG* is 6000 bytes, anything
 * else is "tok-123". Properties, besides "no crash, leak or sanitizer
 * report":
 *   - a refusal says why (err is not empty);
 *   - what is accepted keeps the file's rules: names of [A-Za-z0-9_.-],
 *     http(s) base URLs without a trailing slash, header names that are
 *     tokens and values without CR, LF or other control bytes (after ${VAR}
 *     expansion), at most 16 of each list, paths starting with '/', status
 *     codes 100..599 in one class each;
 *   - every action and sync action is found by svc_find_action as itself
 *     (a job names only service and action, so each must be unique);
 *   - svc_classify gives each listed code its class;
 *   - an expanded path has no placeholder, blank or control byte left;
 *   - auth: OAuth2 token URLs are http(s), secrets hold no control byte
 *     (they go into headers and form bodies), an HMAC header is a token
 *     and its templates sign (sign_value works on any request). */
#include "fmacros.h"
#include "fuzz.h"
#include "json.h"
#include "services.h"

#include <string.h>

static const char *
fake_getenv(const char *name)
{
    static char long_value[6001];
    if (!strncmp(name, "UNSET", 5)) return NULL;
    if (!strncmp(name, "EMPTY", 5)) return "";
    if (!strncmp(name, "CRLF", 4)) return "tok\r\nX-Injected: 1";
    if (!strncmp(name, "LONG", 4)) {
        memset(long_value, 'x', sizeof(long_value) - 1);
        return long_value;
    }
    return "tok-123";
}

static int
valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n < SVC_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static void
check_no_control(const char *what, const char *v)
{
    for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p != 0x7f, "%s holds control byte 0x%02x", what, *p);
}

static void
check_auth(const svc_service *s)
{
    if (s->oauth2) {
        FUZZ_CHECK(!strncmp(s->oauth2->token_url, "http://", 7) || !strncmp(s->oauth2->token_url, "https://", 8),
                   "token_url %s", s->oauth2->token_url);
        check_no_control("client_id", s->oauth2->client_id);
        check_no_control("client_secret", s->oauth2->client_secret);
        FUZZ_CHECK(!s->sigv4, "oauth2 and aws_sigv4 together");
    }
    if (s->hmac) {
        char out[SIGN_VALUE_MAX];
        sign_input in = {"POST", "/p?q=1", "{}", 2, 1700000000};
        check_no_control("hmac key", s->hmac->key);
        FUZZ_CHECK(s->hmac->header && *s->hmac->header && strcspn(s->hmac->header, " :\r\n") == strlen(s->hmac->header),
                   "hmac header \"%s\"", s->hmac->header ? s->hmac->header : "(null)");
        check_no_control("hmac format", s->hmac->format);
        (void)sign_value(s->hmac, &in, out, sizeof(out)); /* may not fit; must not crash */
    }
    if (s->sigv4) {
        check_no_control("secret_access_key", s->sigv4->secret_access_key);
        check_no_control("session_token", s->sigv4->session_token);
        check_no_control("access_key_id", s->sigv4->access_key_id);
    }
    check_no_control("key_password", s->tls.key_password);
}

static void
check_headers(const svc_service *s)
{
    FUZZ_CHECK(s->nheaders >= 0 && s->nheaders <= SVC_MAX_HEADERS, "%d headers", s->nheaders);
    for (int i = 0; i < s->nheaders; i++) {
        const char *name = s->headers[i].name, *v = s->headers[i].value;
        FUZZ_CHECK(name && *name && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                 "!#$%&'*+-.^_`|~") == strlen(name),
                   "header name \"%s\" is not a token", name ? name : "(null)");
        FUZZ_CHECK(v != NULL, "header %s has no value", name);
        for (const unsigned char *p = (const unsigned char *)v; *p; p++)
            FUZZ_CHECK((*p >= 0x20 || *p == '\t') && *p != 0x7f, "header %s holds control byte 0x%02x", name, *p);
    }
}

static void
check_expand(const char *tmpl)
{
    static const char text[] = "{\"a\":{\"b\":\"x y/z\"},\"n\":5,\"id\":\"r-1\"}";
    char out[1024], err[256] = "";
    json *payload = json_parse(text, sizeof(text) - 1, err, sizeof(err));
    FUZZ_CHECK(payload != NULL, "the fixed payload does not parse: %s", err);
    if (svc_expand(tmpl, "example.org/€ x", "id 1/2", payload, out, sizeof(out), err, sizeof(err)) == 0) {
        for (const unsigned char *p = (const unsigned char *)out; *p; p++)
            FUZZ_CHECK(*p > 0x20 && *p != 0x7f && *p != '{' && *p != '}' && *p != '#',
                       "expanded path \"%s\" (from \"%s\") holds 0x%02x", out, tmpl, *p);
    } else {
        FUZZ_CHECK(err[0] != '\0' && out[0] == '\0', "svc_expand failed without a message or left a half path");
    }
    json_free(payload);
}

static void
check_action(const svc_file *f, const svc_service *s, const svc_resource *r, const svc_action *a)
{
    const svc_service *fs = NULL;
    const svc_resource *fr = NULL;
    const svc_action *fa = NULL;
    FUZZ_CHECK(valid_name(a->name), "action name \"%s\"", a->name ? a->name : "(null)");
    if (a->exec.mode != EXEC_NONE) {
        FUZZ_CHECK(a->exec.argc > 0 && a->exec.argv && a->exec.argv[0] && a->exec.argv[0][0] &&
                       !a->exec.argv[a->exec.argc] && !a->method && !a->path,
                   "exec action %s: command, or HTTP members", a->name);
    } else {
        FUZZ_CHECK(r && a->method && a->path && a->path[0] == '/' && s->base_url, "action %s: method, path or base URL",
                   a->name);
    }
    FUZZ_CHECK(svc_find_action(f, s->name, a->name, &fs, &fr, &fa) == 0 && fs == s && fr == r && fa == a,
               "action %s.%s is not found as itself", s->name, a->name);
    for (int cls = 0; cls < ST_CLASSES; cls++) {
        FUZZ_CHECK(a->ncodes[cls] >= 0 && a->ncodes[cls] <= SVC_MAX_LIST, "%d codes", a->ncodes[cls]);
        for (int i = 0; i < a->ncodes[cls]; i++) {
            int code = a->codes[cls][i];
            FUZZ_CHECK(code >= 100 && code <= 599, "status code %d", code);
            FUZZ_CHECK(svc_classify(a, code) == (svc_status_class)cls, "code %d is not classed as listed", code);
        }
    }
    if (a->path) check_expand(a->path);
}

static void
check_resource(const svc_file *f, const svc_service *s, const svc_resource *r)
{
    const svc_service *fs = NULL;
    const svc_resource *fr = NULL;
    const svc_action *fa = (const svc_action *)1;
    FUZZ_CHECK(valid_name(r->name), "resource name");
    FUZZ_CHECK(r->nhash >= 0 && r->nhash <= SVC_MAX_LIST && r->nnatural >= 0 && r->nnatural <= SVC_MAX_LIST &&
                   r->nscopes >= 0 && r->nscopes <= SVC_MAX_LIST,
               "list lengths %d %d %d", r->nhash, r->nnatural, r->nscopes);
    FUZZ_CHECK(r->paging >= PAGE_PAGE && r->paging <= PAGE_LINK, "paging %d", (int)r->paging);
    FUZZ_CHECK(r->max_delete_share >= 0 && r->max_delete_share <= 1, "max_delete_share %g", r->max_delete_share);
    FUZZ_CHECK(r->list_exec.mode == EXEC_PER_JOB ? !r->list_path && r->list_exec.argc > 0
                                                 : r->list_exec.mode == EXEC_NONE && r->list_path && r->list_path[0] == '/',
               "list path or program");
    FUZZ_CHECK(valid_name(r->sync_action), "sync action name");
    FUZZ_CHECK(svc_find_action(f, s->name, r->sync_action, &fs, &fr, &fa) == 0 && fs == s && fr == r && !fa,
               "sync action %s.%s is not found as itself", s->name, r->sync_action);
    if (r->list_path) check_expand(r->list_path);
    for (int i = 0; i < r->nactions; i++) check_action(f, s, r, &r->actions[i]);
}

static void
check_service(const svc_file *f, const svc_service *s)
{
    size_t n = s->base_url ? strlen(s->base_url) : 0;
    int program_lists = 1; /* every resource's list is a program's */
    for (int i = 0; i < s->nresources; i++)
        if (s->resources[i].list_exec.mode == EXEC_NONE) program_lists = 0;
    FUZZ_CHECK(valid_name(s->name), "service name");
    /* a base URL may lack only where nothing is an HTTP request: an exec
     * service, or an HTTP service with resources, when programs make every list
     * (an HTTP action without one is refused, and is checked below) */
    FUZZ_CHECK((!s->base_url && program_lists && (s->exec.mode != EXEC_NONE || s->nresources > 0)) ||
                   (n > 0 && (!strncmp(s->base_url, "http://", 7) || !strncmp(s->base_url, "https://", 8)) &&
                    s->base_url[n - 1] != '/'),
               "base_url \"%s\"", s->base_url ? s->base_url : "(null)");
    FUZZ_CHECK(s->connect_timeout_ms > 0 && s->connect_timeout_ms <= s->timeout_ms, "timeouts %d %d",
               s->connect_timeout_ms, s->timeout_ms);
    check_headers(s);
    check_auth(s);
    for (int i = 0; i < s->nresources; i++) check_resource(f, s, &s->resources[i]);
    for (int i = 0; i < s->nactions; i++) check_action(f, s, NULL, &s->actions[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    svc_file *f = svc_parse((const char *)data, size, fake_getenv, err, sizeof(err));
    if (!f) {
        FUZZ_CHECK(err[0] != '\0', "refused without a message");
        return 0;
    }
    for (int i = 0; i < f->nservices; i++) check_service(f, &f->services[i]);
    FUZZ_CHECK(svc_find_action(f, "no such service", "x", NULL, NULL, NULL) == -1, "found a service never named");
    svc_free(f);
    return 0;
}

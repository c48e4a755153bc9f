/* plugin.c - C plugins (syncq/handler.h; docs/HANDLERS.md, "C plugins").
 *
 * The master loads them before it forks anything: dlopen, the ABI check
 * (the plugin's syncq_plugin_abi against ours), then syncq_plugin_init with
 * the plugin registry, which adds their handlers to the master's registry
 * table. Children inherit the table (and the mapped code) with fork, then
 * add the built-ins' syncq/... names (which plugins may not take) and the
 * services file's actions (which replace a plugin's of the same name). A
 * plugin is never unloaded: its code runs in every child until the master
 * exits. */
#include "fmacros.h"
#include "services.h"
#include "worker.h"
#include "xalloc.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGINS_MAX 32

typedef int (*plugin_init_fn)(uint32_t api_version, syncq_registry *registry);

static char *loaded[PLUGINS_MAX]; /* paths, for duplicates */
static int nloaded;

/* load_one loads the plugin at path. 0, or -1 with err set. */
static int
load_one(const char *path, char *err, size_t errlen)
{
    for (int i = 0; i < nloaded; i++)
        if (!strcmp(loaded[i], path)) return 0; /* named twice: once is enough */
    if (nloaded == PLUGINS_MAX) {
        snprintf(err, errlen, "plugin %s: more than %d plugins", path, PLUGINS_MAX);
        return -1;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "plugin %s: cannot load it: %s", path, dlerror());
        return -1;
    }
    const uint32_t *abi = dlsym(h, "syncq_plugin_abi");
    if (!abi) {
        snprintf(err, errlen, "plugin %s is not a syncq plugin: it has no syncq_plugin_abi (SYNCQ_PLUGIN_DECLARE of syncq/handler.h)", path);
        goto fail;
    }
    if (*abi != SYNCQ_HANDLER_ABI) {
        snprintf(err, errlen, "plugin %s was built for handler ABI %u, but this syncq-worker speaks handler ABI %u: rebuild it against this version's syncq/handler.h",
                 path, (unsigned)*abi, (unsigned)SYNCQ_HANDLER_ABI);
        goto fail;
    }
    plugin_init_fn init;
    void *sym = dlsym(h, "syncq_plugin_init");
    memcpy(&init, &sym, sizeof(init)); /* POSIX: a data pointer from dlsym may hold a function */
    if (!sym) {
        snprintf(err, errlen, "plugin %s has no syncq_plugin_init", path);
        goto fail;
    }
    syncq_registry *reg = handler_registry(1);
    reg->fail(reg, "");
    int rc = init(SYNCQ_HANDLER_ABI, reg);
    if (rc != 0) {
        const char *why = handler_registry_error(reg);
        snprintf(err, errlen, "plugin %s: syncq_plugin_init returned %d%s%s", path, rc, *why ? ": " : "", why);
        return -1; /* it may have registered handlers: never dlclose what they point into */
    }
    loaded[nloaded++] = xstrdup(path);
    return 0;
fail:
    dlclose(h);
    return -1;
}

/* next_item copies the next comma-separated item of *list (blanks trimmed). */
static int
next_item(const char **list, char *out, size_t len)
{
    const char *s = *list;
    while (*s == ',' || *s == ' ') s++;
    if (!*s) return 0;
    size_t n = strcspn(s, ",");
    *list = s + n;
    while (n && s[n - 1] == ' ') n--;
    snprintf(out, len, "%.*s", (int)n, s);
    return 1;
}

int
plugin_load_all(const char *list, const svc_file *svc, char *err, size_t errlen)
{
    char path[1024];
    while (list && next_item(&list, path, sizeof(path)))
        if (load_one(path, err, errlen) < 0) return -1;
    for (int i = 0; svc && i < svc->nplugins; i++)
        if (load_one(svc->plugins[i], err, errlen) < 0) return -1;
    return 0;
}

int
plugin_loaded(const char *path)
{
    for (int i = 0; i < nloaded; i++)
        if (!strcmp(loaded[i], path)) return 1;
    return 0;
}

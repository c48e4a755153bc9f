/* web_auth.c - the console's users file (SYNCQ_WEB_USERS) and the hashes in
 * it. One user per line, '#' starts a comment:
 *     name:role:password-hash[:token-hash]
 * role is viewer or manager; the hashes are crypt(3) strings (yescrypt from
 * libcrypt, "$y$..."; bcrypt "$2b$..." files work too), which hold no ':'.
 * An API token is "NAME.SECRET": the name says which hash to check, so a
 * request costs one hash, not one per user. Rejected: argon2 (one more
 * library for the same guarantee) and keeping tokens in clear text in the
 * file (a leaked file would then be a leaked login). */
#include "fmacros.h"
#include "web.h"
#include "xalloc.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A valid hash of nothing anybody types: checked when the user is unknown,
 * so an unknown name costs as much as a wrong password. */
static const char DUMMY_SECRET[] = "syncq-web-no-such-user";

const char *
web_role_name(web_role r)
{
    return r == WEB_ROLE_MANAGER ? "manager" : r == WEB_ROLE_VIEWER ? "viewer" : "none";
}

web_role
web_role_parse(const char *s)
{
    if (!strcmp(s, "manager")) return WEB_ROLE_MANAGER;
    if (!strcmp(s, "viewer")) return WEB_ROLE_VIEWER;
    return WEB_ROLE_NONE;
}

int
web_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= WEB_NAME_MAX || s[0] == '.') return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-") == n;
}

/* ---------------------------------------------------------------- Loading */

/* parse_line fills u from "name:role:hash[:token]"; 0 or -1 with err. */
static int
parse_line(char *line, web_user *u, char *err, size_t errlen)
{
    char *f[4] = {NULL, NULL, NULL, NULL};
    int n = 0;
    for (char *p = line; n < 4; n++) {
        f[n] = p;
        char *c = strchr(p, ':');
        if (!c) {
            n++;
            break;
        }
        *c = '\0';
        p = c + 1;
    }
    memset(u, 0, sizeof(*u));
    if (n < 3) return snprintf(err, errlen, "want name:role:password-hash[:token-hash]"), -1;
    if (!web_valid_name(f[0])) return snprintf(err, errlen, "bad user name (1..63 of A-Z a-z 0-9 _ . @ -)"), -1;
    if ((u->role = web_role_parse(f[1])) == WEB_ROLE_NONE)
        return snprintf(err, errlen, "bad role \"%.20s\" (viewer or manager)", f[1]), -1;
    if (strlen(f[2]) >= sizeof(u->hash) || (f[3] && strlen(f[3]) >= sizeof(u->token_hash)))
        return snprintf(err, errlen, "hash too long"), -1;
    if ((f[2][0] && f[2][0] != '$') || (f[3] && f[3][0] && f[3][0] != '$'))
        return snprintf(err, errlen, "not a crypt(3) hash (write it with syncq web passwd)"), -1;
    snprintf(u->name, sizeof(u->name), "%s", f[0]);
    snprintf(u->hash, sizeof(u->hash), "%s", f[2]);
    if (f[3]) snprintf(u->token_hash, sizeof(u->token_hash), "%s", f[3]);
    return 0;
}

int
web_users_load(const char *path, web_users *u, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char line[1024], why[200];
    int lineno = 0;
    memset(u, 0, sizeof(*u));
    if (!fp) return snprintf(err, errlen, "cannot read users file %s: %s", path, strerror(errno)), -1;
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        u->v = xrealloc(u->v, (size_t)(u->n + 1) * sizeof(*u->v));
        if (parse_line(line, &u->v[u->n], why, sizeof(why)) < 0 || web_users_find(u, u->v[u->n].name)) {
            snprintf(err, errlen, "users file %s line %d: %s", path, lineno,
                     web_users_find(u, u->v[u->n].name) ? "user listed twice" : why);
            fclose(fp);
            web_users_free(u);
            return -1;
        }
        u->n++;
    }
    fclose(fp);
    return 0;
}

void
web_users_free(web_users *u)
{
    free(u->v);
    memset(u, 0, sizeof(*u));
}

const web_user *
web_users_find(const web_users *u, const char *name)
{
    for (int i = 0; u && i < u->n; i++)
        if (!strcmp(u->v[i].name, name)) return &u->v[i];
    return NULL;
}

/* ---------------------------------------------------------------- Hashes */

/* verify: secret hashes to hash (one crypt_r, constant-time compare). */
static int
verify(const char *secret, const char *hash)
{
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    const char *h = crypt_r(secret, hash, &cd);
    return h && h[0] != '*' && web_equal(h, hash);
}

/* dummy_hash: a real hash to spend time on for an unknown user. */
static const char *
dummy_hash(void)
{
    static char h[256];
    char err[100];
    if (!h[0] && web_auth_hash(DUMMY_SECRET, h, sizeof(h), err, sizeof(err)) < 0) h[0] = '\0';
    return h;
}

const web_user *
web_auth_password(const web_users *u, const char *name, const char *password)
{
    const web_user *x = name ? web_users_find(u, name) : NULL;
    if (!password) return NULL;
    if (!x || !x->hash[0]) {
        const char *d = dummy_hash();
        if (d[0]) (void)verify(password, d); /* the time of a wrong password; the answer is no either way */
        return NULL;
    }
    return verify(password, x->hash) ? x : NULL;
}

const web_user *
web_auth_token(const web_users *u, const char *token)
{
    char name[WEB_NAME_MAX];
    const char *dot = token ? strchr(token, '.') : NULL;
    if (!dot || dot == token || (size_t)(dot - token) >= sizeof(name)) return NULL;
    memcpy(name, token, (size_t)(dot - token));
    name[dot - token] = '\0';
    const web_user *x = web_users_find(u, name);
    if (!x || !x->token_hash[0]) return NULL;
    return verify(dot + 1, x->token_hash) ? x : NULL;
}

int
web_auth_hash(const char *secret, char *out, size_t outlen, char *err, size_t errlen)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, (int)sizeof(salt)))
        return snprintf(err, errlen, "crypt_gensalt: %s", strerror(errno)), -1;
    const char *h = crypt_r(secret, salt, &cd);
    if (!h || h[0] == '*' || strlen(h) >= outlen) return snprintf(err, errlen, "crypt: %s", strerror(errno)), -1;
    snprintf(out, outlen, "%s", h);
    return 0;
}

/* ---------------------------------------------------------------- Writing */

/* copy_others copies every line of in but user's to out. */
static void
copy_others(FILE *in, FILE *out, const char *name)
{
    char line[1024];
    size_t n = strlen(name);
    while (in && fgets(line, sizeof(line), in))
        if (strncmp(line, name, n) != 0 || line[n] != ':') fputs(line, out);
}

int
web_users_write(const char *path, const web_user *user, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno)), -1;
    FILE *out = fdopen(fd, "w"), *in = fopen(path, "r");
    if (!out) {
        close(fd);
        unlink(tmp);
        if (in) fclose(in);
        return snprintf(err, errlen, "fdopen: %s", strerror(errno)), -1;
    }
    copy_others(in, out, user->name);
    fprintf(out, "%s:%s:%s%s%s\n", user->name, web_role_name(user->role), user->hash, user->token_hash[0] ? ":" : "",
            user->token_hash);
    if (in) fclose(in);
    int bad = fflush(out) != 0 || fsync(fileno(out)) != 0;
    if (fclose(out) != 0 || bad || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

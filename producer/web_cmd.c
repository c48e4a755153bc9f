/* web_cmd.c - `syncq web`: serve the console, and `syncq web passwd NAME` /
 * `syncq web token NAME` to write the users file (docs/WEB.md). */
#include "fmacros.h"
#include "web.h"
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char usage[] =
    "usage: syncq web [--listen ADDR] [--port N] [--insecure-local] [--cert PEM --key PEM]\n"
    "       syncq web passwd NAME [--role viewer|manager] [--users FILE]\n"
    "       syncq web token NAME [--users FILE]\n"
    "\n"
    "Serves the web console (docs/WEB.md): overview, jobs, dead letters, snapshots, queues, each\n"
    "page with a JSON twin under /api/. Users and roles come from the file SYNCQ_WEB_USERS.\n"
    "      --listen ADDR       address to bind (default 127.0.0.1)\n"
    "      --port N            port (default 8080; 0 = any, see --port-file)\n"
    "      --port-file F       write the bound port into F\n"
    "      --insecure-local    no users file: everyone is a manager; only on a loopback address\n"
    "      --cert PEM --key PEM  serve HTTPS (cookies get Secure)\n"
    "\n"
    "passwd sets NAME's password (read from the terminal twice, or one line of stdin) and role\n"
    "(default: the user's current role, else viewer). token prints a new API token NAME.SECRET for\n"
    "Authorization: Bearer (only its hash is kept; a new token replaces the old one).\n"
    "Exit codes: 0 ok, 64 usage or bad users file, 69 cannot listen.\n";

/* ---------------------------------------------------------------- Users file */

/* read_secret reads a password: from the terminal without echo, asked
 * twice, or one line of stdin. 0, or -1 (message printed). */
static int
read_secret(char *out, size_t len)
{
    char again[256];
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        fputs("password: ", stderr);
    }
    int ok = fgets(out, (int)len, stdin) != NULL;
    if (ok && tty) {
        fputs("\nagain: ", stderr);
        ok = fgets(again, sizeof(again), stdin) != NULL;
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    out[ok ? strcspn(out, "\r\n") : 0] = '\0';
    if (ok && tty) again[strcspn(again, "\r\n")] = '\0';
    if (!ok || !out[0]) return fputs("syncq web passwd: no password given\n", stderr), -1;
    if (tty && strcmp(out, again) != 0) return fputs("syncq web passwd: the passwords differ\n", stderr), -1;
    if (strlen(out) < 8) return fputs("syncq web passwd: a password has at least 8 characters\n", stderr), -1;
    return 0;
}

/* user_load reads the users file (a missing one is empty) and copies name's
 * entry into *u when there is one. 0, or an exit code. */
static int
user_load(const char *path, const char *name, web_user *u)
{
    web_users all;
    char err[600];
    memset(u, 0, sizeof(*u));
    snprintf(u->name, sizeof(u->name), "%s", name);
    if (access(path, F_OK) != 0) return 0;
    if (web_users_load(path, &all, err, sizeof(err)) < 0) {
        fprintf(stderr, "syncq web: %s\n", err);
        return SYNCQ_EX_USAGE;
    }
    const web_user *x = web_users_find(&all, name);
    if (x) *u = *x;
    web_users_free(&all);
    return 0;
}

static int
save(const char *path, const web_user *u)
{
    char err[600];
    if (web_users_write(path, u, err, sizeof(err)) == 0) return 0;
    fprintf(stderr, "syncq web: %s\n", err);
    return SYNCQ_EX_UNAVAILABLE;
}

/* users_args reads NAME [--role R] [--users FILE]. 0 or an exit code. */
static int
users_args(int argc, char **argv, const char **name, const char **role, const char **path)
{
    *path = getenv("SYNCQ_WEB_USERS");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--role") && i + 1 < argc) *role = argv[++i];
        else if (!strcmp(argv[i], "--users") && i + 1 < argc) *path = argv[++i];
        else if (argv[i][0] != '-' && !*name) *name = argv[i];
        else return fprintf(stderr, "syncq web %s: unexpected argument \"%s\"\n%s", argv[0], argv[i], usage), SYNCQ_EX_USAGE;
    }
    if (!*name || !web_valid_name(*name))
        return fprintf(stderr, "syncq web %s: a user NAME (1..63 of A-Z a-z 0-9 _ . @ -)\n", argv[0]), SYNCQ_EX_USAGE;
    if (!*path || !**path) return fprintf(stderr, "syncq web %s: set SYNCQ_WEB_USERS or pass --users FILE\n", argv[0]), SYNCQ_EX_USAGE;
    if (*role && web_role_parse(*role) == WEB_ROLE_NONE)
        return fprintf(stderr, "syncq web %s: bad --role \"%s\" (viewer or manager)\n", argv[0], *role), SYNCQ_EX_USAGE;
    return 0;
}

static int
cmd_passwd(int argc, char **argv)
{
    const char *name = NULL, *role = NULL, *path = NULL;
    char pw[256], err[300];
    web_user u;
    int rc = users_args(argc, argv, &name, &role, &path);
    if (rc || (rc = user_load(path, name, &u)) != 0) return rc;
    if (read_secret(pw, sizeof(pw)) < 0) return SYNCQ_EX_USAGE;
    u.role = role ? web_role_parse(role) : u.role ? u.role : WEB_ROLE_VIEWER;
    rc = web_auth_hash(pw, u.hash, sizeof(u.hash), err, sizeof(err));
    memset(pw, 0, sizeof(pw));
    if (rc < 0) return fprintf(stderr, "syncq web passwd: %s\n", err), SYNCQ_EX_SOFTWARE;
    if ((rc = save(path, &u)) == 0) printf("%s is a %s in %s\n", name, web_role_name(u.role), path);
    return rc;
}

static int
cmd_token(int argc, char **argv)
{
    const char *name = NULL, *role = NULL, *path = NULL;
    char secret[65], err[300];
    web_user u;
    int rc = users_args(argc, argv, &name, &role, &path);
    if (rc || (rc = user_load(path, name, &u)) != 0) return rc;
    if (!u.role) return fprintf(stderr, "syncq web token: no user %s (syncq web passwd %s first)\n", name, name), SYNCQ_EX_DATAERR;
    if (web_random_hex(secret, 32) < 0 || web_auth_hash(secret, u.token_hash, sizeof(u.token_hash), err, sizeof(err)) < 0)
        return fprintf(stderr, "syncq web token: cannot make a token\n"), SYNCQ_EX_SOFTWARE;
    if ((rc = save(path, &u)) == 0) printf("%s.%s\n", name, secret);
    return rc;
}

/* ---------------------------------------------------------------- Serving */

static int
serve(config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'}, {"port", required_argument, NULL, 'p'},
        {"port-file", required_argument, NULL, 'P'}, {"insecure-local", no_argument, NULL, 'I'},
        {"cert", required_argument, NULL, 'c'}, {"key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    web_opts o = {.listen = "127.0.0.1", .port = 8080, .users_path = getenv("SYNCQ_WEB_USERS")};
    int64_t n;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage, stdout); return SYNCQ_EX_OK;
        case 'l': o.listen = optarg; break;
        case 'P': o.port_file = optarg; break;
        case 'I': o.insecure_local = 1; break;
        case 'c': o.cert = optarg; break;
        case 'k': o.key = optarg; break;
        case 'p':
            if (config_parse_int(optarg, 0, 65535, &n) < 0)
                return fprintf(stderr, "syncq web: bad --port \"%s\" (0..65535)\n", optarg), SYNCQ_EX_USAGE;
            o.port = (int)n;
            break;
        default: fputs(usage, stderr); return SYNCQ_EX_USAGE;
        }
    }
    if (optind < argc) return fprintf(stderr, "syncq web: unexpected argument \"%s\"\n%s", argv[optind], usage), SYNCQ_EX_USAGE;
    if (!o.cert != !o.key) return fprintf(stderr, "syncq web: --cert and --key go together\n"), SYNCQ_EX_USAGE;
    if (o.users_path && o.users_path[0] && o.insecure_local)
        return fprintf(stderr, "syncq web: --insecure-local with SYNCQ_WEB_USERS set: pick one\n"), SYNCQ_EX_USAGE;
    return web_serve(cfg, &o);
}

int
cli_web(config *cfg, int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "passwd")) return cmd_passwd(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "token")) return cmd_token(argc - 1, argv + 1);
    return serve(cfg, argc, argv);
}

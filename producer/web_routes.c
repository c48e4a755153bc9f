/* web_routes.c - the console's route table: every page, its JSON twin under
 * /api/, and the role each needs. A path not here is a 404; web_gate_check
 * (web_route.c) decides the rest. */
#include "fmacros.h"
#include "web.h"
#include "web_action.h"

const web_route web_routes[] = {
    {"GET", "/static/app.css", WEB_ROLE_NONE, web_static_css},
    {"GET", "/static/app.js", WEB_ROLE_NONE, web_static_js},
    {"GET", "/favicon.ico", WEB_ROLE_NONE, web_static_favicon},
    {"GET", "/login", WEB_ROLE_NONE, web_page_login},
    {"POST", "/login", WEB_ROLE_NONE, web_do_login},
    {"POST", "/logout", WEB_ROLE_VIEWER, web_do_logout},

    {"GET", "/", WEB_ROLE_VIEWER, web_page_overview},
    {"GET", "/api/overview", WEB_ROLE_VIEWER, web_page_overview},
    {"GET", "/jobs", WEB_ROLE_VIEWER, web_page_jobs},
    {"GET", "/api/jobs", WEB_ROLE_VIEWER, web_page_jobs},
    {"GET", "/job", WEB_ROLE_VIEWER, web_page_job},
    {"GET", "/api/job", WEB_ROLE_VIEWER, web_page_job},
    {"POST", "/job/retry", WEB_ROLE_MANAGER, web_do_job_retry},
    {"POST", "/api/job/retry", WEB_ROLE_MANAGER, web_do_job_retry},
    {"POST", "/job/cancel", WEB_ROLE_MANAGER, web_do_job_cancel},
    {"POST", "/api/job/cancel", WEB_ROLE_MANAGER, web_do_job_cancel},
    {"GET", "/dlq", WEB_ROLE_VIEWER, web_page_dlq},
    {"GET", "/api/dlq", WEB_ROLE_VIEWER, web_page_dlq},
    {"POST", "/dlq", WEB_ROLE_MANAGER, web_do_dlq},
    {"POST", "/api/dlq", WEB_ROLE_MANAGER, web_do_dlq},
    {"GET", "/dlq/task", WEB_ROLE_VIEWER, web_page_task},
    {"GET", "/api/dlq/task", WEB_ROLE_VIEWER, web_page_task},
    {"GET", "/snapshots", WEB_ROLE_VIEWER, web_page_snapshots},
    {"GET", "/api/snapshots", WEB_ROLE_VIEWER, web_page_snapshots},
    {"GET", "/queues", WEB_ROLE_VIEWER, web_page_queues},
    {"GET", "/api/queues", WEB_ROLE_VIEWER, web_page_queues},
    {"POST", "/queues", WEB_ROLE_MANAGER, web_do_queue},
    {"POST", "/api/queues", WEB_ROLE_MANAGER, web_do_queue},
};

const size_t web_nroutes = sizeof(web_routes) / sizeof(web_routes[0]);

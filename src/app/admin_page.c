/*
 * admin_page.c: the owner's dashboard shell (CONTRACT section 21). Every address under /admin/
 * answers the same HTML page; its scripts (admin.js, the shared core, and one admin_*.js per
 * group of screens, all embedded) read the address and draw the screen from the /v1 API,
 * signed in with the session cookie. The page loads nothing from another host and runs under a
 * strict CSP. Each asset's address carries its version, so a new build is never served stale.
 */
#include <stdlib.h>

#include "app/app.h"
#include "app/pages.h"

void kith_app_admin_page(struct kith_http_request *req, void *ctx)
{
    struct kith_app *a = ctx;
    const struct kith_app_route *route = req->route_data;
    /* {{name}} in admin.html is the version of the file name.js / name.css. */
    struct kith_app_var v[] = {
        {"css", kith_app_asset_version(a, "kith.css")},
        {"admin_css", kith_app_asset_version(a, "admin.css")},
        {"admin_js", kith_app_asset_version(a, "admin.js")},
        {"admin_people_js", kith_app_asset_version(a, "admin_people.js")},
        {"admin_rewards_js", kith_app_asset_version(a, "admin_rewards.js")},
        {"admin_settings_js", kith_app_asset_version(a, "admin_settings.js")},
        {"admin_program_js", kith_app_asset_version(a, "admin_program.js")},
        {"admin_resources_js", kith_app_asset_version(a, "admin_resources.js")},
        {"admin_community_js", kith_app_asset_version(a, "admin_community.js")},
        {"admin_integrations_js", kith_app_asset_version(a, "admin_integrations.js")},
        {"admin_insights_css", kith_app_asset_version(a, "admin_insights.css")},
        {"admin_health_js", kith_app_asset_version(a, "admin_health.js")},
        {"admin_experiments_js", kith_app_asset_version(a, "admin_experiments.js")},
    };
    char *html = kith_app_html_fill("admin.html", v, KITH_ARRAY_LEN(v));
    kith_app_html_respond(a, req, route->name, 200, html,
                          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                          "data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                          "frame-ancestors 'none'",
                          NULL);
    free(html);
}

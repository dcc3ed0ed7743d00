/* placeholder replaced below */
#include "store/backend.h"
enum kith_status kith_pgsql_open(const char *url, struct kith_store **out, struct kith_err *err)
{
    (void)url;
    (void)out;
    return kith_err_set(err, KITH_E_UNAVAILABLE, NULL, "PostgreSQL support is not built");
}

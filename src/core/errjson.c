/*
 * errjson.c: the contract's error body, `{"error": {"code", "message", "param"}}`, built in one
 * place for every layer: the transport's own refusals (src/http), the answers of API calls
 * (src/engine/call.c) and the app's (429). jansson escapes; a message or param that is not valid
 * UTF-8 is replaced by a fixed text rather than dropped. It is not for choosing the HTTP status:
 * src/http/errors.c maps statuses to numbers.
 */
#include <jansson.h>
#include <stdlib.h>

#include "kith/core.h"

char *kith_error_json_code(const char *code, const char *message, const char *param)
{
    json_t *root = json_object(), *inner = json_object();
    if (root == NULL || inner == NULL)
        abort();
    json_t *m = json_string(message && message[0] ? message : code);
    json_object_set_new(inner, "code", json_string(code));
    json_object_set_new(inner, "message", m ? m : json_string("invalid message"));
    json_t *p = param && param[0] ? json_string(param) : NULL;
    json_object_set_new(inner, "param",
                        p ? p : (param && param[0] ? json_string("invalid") : json_null()));
    json_object_set_new(root, "error", inner);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL)
        abort();
    return text;
}

char *kith_error_json(enum kith_status st, const char *message, const char *param)
{
    return kith_error_json_code(kith_status_code(st), message, param);
}

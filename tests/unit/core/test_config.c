/*
 * test_config.c: the config table (kith/config.h) over kith's own settings and over a small
 * table of its own (for the INT type, which kith's table does not use yet), and the log line
 * formats (kith/log.h) the log_format setting chooses.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "kith/app.h"
#include "kith/config.h"
#include "kith/log.h"
#include "test.h"

static const struct kith_config_setting *app(size_t *n)
{
    return kith_config_app_table(n);
}

/* Every variable of the table unset, so the host's environment cannot leak into a case. */
static void clear_env(void)
{
    size_t n;
    const struct kith_config_setting *t = app(&n);
    for (size_t i = 0; i < n; i++) {
        if (t[i].env)
            unsetenv(t[i].env);
    }
    unsetenv("TEST_PORT");
    unsetenv("TEST_NAME");
}

static char tmpdir[64];

static const char *write_file(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

/* Loads kith's table for command with argv; returns the status, err filled. */
static enum kith_status load(unsigned command, int argc, char **argv, struct kith_app_config *cfg,
                             struct kith_config **conf, struct kith_err *err)
{
    size_t n;
    const struct kith_config_setting *t = app(&n);
    memset(cfg, 0, sizeof(*cfg));
    memset(err, 0, sizeof(*err));
    return kith_config_load(t, n, command, argc, argv, cfg, conf, err);
}

static void test_table_is_consistent(void)
{
    size_t n;
    const struct kith_config_setting *t = app(&n);
    CHECK(n >= 13);
    size_t files = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(t[i].name && t[i].name[0]);
        CHECK(t[i].help && t[i].help[0]);
        CHECK(t[i].env != NULL);
        CHECK(strncmp(t[i].env, "KITH_", 5) == 0);
        CHECK(t[i].commands != 0);
        if (t[i].secret)
            CHECK(t[i].flag == NULL); /* a command line is public on a host */
        if (t[i].names_file)
            files++;
        if (t[i].flag) {
            /* The file key is the flag without -- and with _ for -, as --help says. */
            char key[64];
            size_t k = 0;
            for (const char *p = t[i].flag + 2; *p && k + 1 < sizeof(key); p++)
                key[k++] = *p == '-' ? '_' : *p;
            key[k] = '\0';
            CHECK(strncmp(t[i].flag, "--", 2) == 0);
            CHECK_STR(key, t[i].name);
        }
        if (t[i].type == KITH_CONFIG_ENUM || t[i].type == KITH_CONFIG_URL)
            CHECK(t[i].words && t[i].words[0]);
        for (size_t j = 0; j < i; j++) {
            CHECK(strcmp(t[i].name, t[j].name) != 0);
            CHECK(strcmp(t[i].env, t[j].env) != 0);
            if (t[i].flag && t[j].flag)
                CHECK(strcmp(t[i].flag, t[j].flag) != 0);
        }
    }
    CHECK_INT(files, 1);
}

static void test_defaults(void)
{
    struct kith_app_config cfg;
    struct kith_config *conf = NULL;
    struct kith_err err;
    clear_env();
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 0, NULL, &cfg, &conf, &err), KITH_OK);
    CHECK(conf != NULL);
    CHECK_STR(cfg.listen_host, "127.0.0.1");
    CHECK_INT(cfg.listen_port, 8080);
    CHECK_STR(cfg.db_path, "./kith.db");
    CHECK(cfg.public_url == NULL);
    CHECK(cfg.secret_key == NULL);
    CHECK(cfg.config_path == NULL);
    CHECK(cfg.webhook_allow_cidrs == NULL);
    CHECK(cfg.smtp_url == NULL);
    CHECK_STR(cfg.smtp_from, "kith@localhost");
    CHECK(!cfg.test_clock);
    CHECK(cfg.fraud_scoring);
    CHECK_INT(cfg.log_level, KITH_LOG_INFO);
    CHECK_INT(cfg.log_format, KITH_LOG_TEXT);
    CHECK_INT(cfg.db_sync, KITH_APP_DB_SYNC_FULL);
    kith_config_destroy(conf);
    kith_config_destroy(NULL);
    /* Validation only. */
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 0, NULL, &cfg, NULL, &err), KITH_OK);
}

static void test_environment_and_flags(void)
{
    struct kith_app_config cfg;
    struct kith_config *conf = NULL;
    struct kith_err err;
    clear_env();
    setenv("KITH_LISTEN", "0.0.0.0:9000", 1);
    setenv("KITH_DB", "/tmp/env.db", 1);
    setenv("KITH_DB_SYNC", "pipelined", 1);
    setenv("KITH_FRAUD_SCORING", "off", 1);
    setenv("KITH_LOG_LEVEL", "warn", 1);
    setenv("KITH_SMTP_URL", "", 1); /* empty: not given */
    char *argv[] = {"--db",
                    "/tmp/flag.db",
                    "--test-clock",
                    "--log-level=debug",
                    "--listen=[::1]:0",
                    "--fraud-scoring=on"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 6, argv, &cfg, &conf, &err), KITH_OK);
    CHECK_STR(cfg.db_path, "/tmp/flag.db");
    CHECK_STR(cfg.listen_host, "::1");
    CHECK_INT(cfg.listen_port, 0);
    CHECK(cfg.test_clock);
    CHECK(cfg.fraud_scoring);
    CHECK_INT(cfg.log_level, KITH_LOG_DEBUG);
    CHECK_INT(cfg.db_sync, KITH_APP_DB_SYNC_PIPELINED);
    CHECK(cfg.smtp_url == NULL);
    kith_config_destroy(conf);

    char *off[] = {"--test-clock=off", "--test-clock", "--test-clock=no"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 3, off, &cfg, &conf, &err), KITH_OK);
    CHECK(!cfg.test_clock); /* the last one wins */
    CHECK(!cfg.fraud_scoring);
    kith_config_destroy(conf);
    clear_env();
}

static void test_bad_values_are_refused_where_they_come_from(void)
{
    struct kith_app_config cfg;
    struct kith_config *conf = (struct kith_config *)1;
    struct kith_err err;
    clear_env();
    /* The case of issue 9: found before anything opens the database. */
    setenv("KITH_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8,bogus", 1);
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 0, NULL, &cfg, &conf, &err), KITH_E_INVALID_PARAM);
    CHECK(conf == NULL);
    CHECK_STR(err.param, "webhook_allow_cidrs");
    CHECK(strstr(err.message, "KITH_WEBHOOK_ALLOW_CIDRS") != NULL);
    CHECK(strstr(err.message, "\"bogus\"") != NULL);
    clear_env();
    setenv("KITH_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8, ::1/128", 1);
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 0, NULL, &cfg, NULL, &err), KITH_OK);
    clear_env();

    static const struct {
        const char *env, *value, *param;
    } bad[] = {
        {"KITH_DB_SYNC", "fsync", "db_sync"},
        {"KITH_LOG_LEVEL", "verbose", "log_level"},
        {"KITH_LOG_FORMAT", "xml", "log_format"},
        {"KITH_FRAUD_SCORING", "maybe", "fraud_scoring"},
        {"KITH_TEST_CLOCK", "2", "test_clock"},
        {"KITH_LISTEN", "8080", "listen"},
        {"KITH_LISTEN", ":8080", "listen"},
        {"KITH_LISTEN", "host:", "listen"},
        {"KITH_LISTEN", "host:65536", "listen"},
        {"KITH_LISTEN", "host:80x", "listen"},
        {"KITH_LISTEN", "::1:8080", "listen"},
        {"KITH_LISTEN", "[::1:8080", "listen"},
        {"KITH_LISTEN", "a b:80", "listen"},
        {"KITH_PUBLIC_URL", "ftp://x", "public_url"},
        {"KITH_PUBLIC_URL", "https://", "public_url"},
        {"KITH_PUBLIC_URL", "refer.example.com", "public_url"},
        {"KITH_SMTP_URL", "http://mail:25", "smtp_url"},
        {"KITH_SMTP_FROM", "a\rb", "smtp_from"},
        {"KITH_SMTP_FROM", "\xff", "smtp_from"},
        {"KITH_DB", "a\nb", "db"},
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(bad); i++) {
        clear_env();
        setenv(bad[i].env, bad[i].value, 1);
        CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 0, NULL, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
        CHECK_STR(err.param, bad[i].param);
        CHECK(strstr(err.message, bad[i].env) != NULL);
    }
    clear_env();

    /* Secrets are never echoed, even when refused. */
    setenv("KITH_SECRET_KEY", "sk_has a space", 1);
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 0, NULL, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    CHECK_STR(err.param, "secret_key");
    CHECK(strstr(err.message, "has a space") == NULL);
    char longkey[202];
    memset(longkey, 'k', 201);
    longkey[201] = '\0';
    setenv("KITH_SECRET_KEY", longkey, 1);
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 0, NULL, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    clear_env();

    char *flag_bad[] = {"--db-sync", "sometimes"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 2, flag_bad, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    CHECK(strstr(err.message, "--db-sync") != NULL);
    CHECK(strstr(err.message, "full, pipelined") != NULL);
    /* The flag would have won, but the environment's bad value is refused all the same. */
    setenv("KITH_DB_SYNC", "fsync", 1);
    char *flag_good[] = {"--db-sync=full"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 1, flag_good, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    clear_env();
}

static void test_flags_by_command(void)
{
    struct kith_app_config cfg;
    struct kith_err err;
    clear_env();
    char *listen[] = {"--listen", "127.0.0.1:1"};
    CHECK_INT(load(KITH_CONFIG_CMD_KEYS, 2, listen, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    CHECK(strstr(err.message, "unknown option '--listen'") != NULL);
    CHECK_INT(load(0, 2, listen, &cfg, NULL, &err), KITH_OK); /* config check: every flag */
    char *db[] = {"--db=/tmp/k.db"};
    struct kith_config *conf = NULL;
    CHECK_INT(load(KITH_CONFIG_CMD_KEYS, 1, db, &cfg, &conf, &err), KITH_OK);
    CHECK_STR(cfg.db_path, "/tmp/k.db");
    kith_config_destroy(conf);
    char *unknown[] = {"--nope"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 1, unknown, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    char *prefix[] = {"--db-syn=full"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 1, prefix, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    char *positional[] = {"extra"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 1, positional, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    CHECK(strstr(err.message, "unexpected argument") != NULL);
    char *missing[] = {"--db"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 1, missing, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    CHECK(strstr(err.message, "needs a value") != NULL);
    char *no_secret_flag[] = {"--secret-key=sk_x"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 1, no_secret_flag, &cfg, NULL, &err),
              KITH_E_INVALID_PARAM);
}

static void test_config_file(void)
{
    struct kith_app_config cfg;
    struct kith_config *conf = NULL;
    struct kith_err err;
    clear_env();
    const char *path =
        write_file("good.conf", "# kith settings\r\n"
                                "\n"
                                "   listen = 10.0.0.1:81   # a comment\r\n"
                                "db=/tmp/file.db\n"
                                "smtp_from = \"Ref # erals \\\"x\\\" <r@x.y>\"  # c\n"
                                "log_level = warn\n"
                                "public_url = https://x.example/a#frag\n"
                                "smtp_url =\n"
                                "test_clock = on");
    char *argv[] = {"--config", (char *)path};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 2, argv, &cfg, &conf, &err), KITH_OK);
    CHECK_STR(err.message, "");
    CHECK_STR(cfg.config_path, path);
    CHECK_STR(cfg.listen_host, "10.0.0.1");
    CHECK_INT(cfg.listen_port, 81);
    CHECK_STR(cfg.db_path, "/tmp/file.db");
    CHECK_STR(cfg.smtp_from, "Ref # erals \"x\" <r@x.y>");
    CHECK_INT(cfg.log_level, KITH_LOG_WARN);
    CHECK_STR(cfg.public_url, "https://x.example/a#frag");
    CHECK(cfg.smtp_url == NULL);
    CHECK(cfg.test_clock);
    kith_config_destroy(conf);

    /* default < file < environment < flag, and KITH_CONFIG names the file too. */
    setenv("KITH_CONFIG", path, 1);
    setenv("KITH_DB", "/tmp/env.db", 1);
    setenv("KITH_LISTEN", "10.0.0.2:82", 1);
    char *flags[] = {"--listen=10.0.0.3:83"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 1, flags, &cfg, &conf, &err), KITH_OK);
    CHECK_STR(cfg.listen_host, "10.0.0.3");
    CHECK_STR(cfg.db_path, "/tmp/env.db");
    CHECK_INT(cfg.log_level, KITH_LOG_WARN);
    CHECK_STR(cfg.smtp_from, "Ref # erals \"x\" <r@x.y>");
    kith_config_destroy(conf);
    /* The flag names the file over the environment. */
    const char *other = write_file("other.conf", "db = /tmp/other.db\n");
    unsetenv("KITH_DB");
    char *flag_file[] = {"--config="
                         "/nonexistent"};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 1, flag_file, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    CHECK(strstr(err.message, "/nonexistent") != NULL);
    char *flag_other[] = {"--config", (char *)other};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 2, flag_other, &cfg, &conf, &err), KITH_OK);
    CHECK_STR(cfg.db_path, "/tmp/other.db");
    kith_config_destroy(conf);
    clear_env();
}

static void test_config_file_errors_name_the_line(void)
{
    static const struct {
        const char *text, *line, *what;
    } bad[] = {
        {"listen = 127.0.0.1:1\n\n# x\nnope = 1\n", ":4:", "unknown setting 'nope'"},
        {"db_sync = full\ndb_sync = pipelined\n", ":2:", "already set on line 1"},
        {"db_sync = fsync\n", ":1:", "full, pipelined"},
        {"\nlisten 127.0.0.1:1\n", ":2:", "expected `=`"},
        {"= 1\n", ":1:", "expected `name = value`"},
        {"Listen = 1\n", ":1:", "expected `name = value`"},
        {"smtp_from = \"open\n", ":1:", "no closing"},
        {"smtp_from = \"a\\nb\"\n", ":1:", "may be escaped"},
        {"smtp_from = \"a\" b\n", ":1:", "only a # comment"},
        {"config = /etc/other.conf\n", ":1:", "cannot be set inside a config file"},
        {"log_level = info\nwebhook_allow_cidrs = 10.0.0.0/33\n", ":2:", "10.0.0.0/33"},
        {"secret_key = \"a b\"\n", ":1:", "secret_key must be visible ASCII"},
    };
    struct kith_app_config cfg;
    struct kith_err err;
    clear_env();
    for (size_t i = 0; i < KITH_ARRAY_LEN(bad); i++) {
        const char *path = write_file("bad.conf", bad[i].text);
        char *argv[] = {"--config", (char *)path};
        CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 2, argv, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
        CHECK(strstr(err.message, path) != NULL);
        if (strstr(err.message, bad[i].line) == NULL || strstr(err.message, bad[i].what) == NULL)
            fprintf(stderr, "case %zu: %s\n", i, err.message);
        CHECK(strstr(err.message, bad[i].line) != NULL);
        CHECK(strstr(err.message, bad[i].what) != NULL);
    }
    /* A secret's refused value is not echoed from the file either. */
    const char *path = write_file("bad.conf", "secret_key = \"sk_ oops\"\n");
    char *argv[] = {"--config", (char *)path};
    CHECK_INT(load(KITH_CONFIG_CMD_SERVE, 2, argv, &cfg, NULL, &err), KITH_E_INVALID_PARAM);
    CHECK(strstr(err.message, "oops") == NULL);
}

static char *capture_effective(const struct kith_config *conf)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    kith_config_write_effective(conf, f);
    fclose(f);
    return text;
}

static void test_effective_settings_redact_secrets(void)
{
    struct kith_app_config cfg;
    struct kith_config *conf = NULL;
    struct kith_err err;
    clear_env();
    setenv("KITH_SECRET_KEY", "sk_live_supersecret", 1);
    setenv("KITH_SMTP_URL", "smtps://mailer:pa55word@mail.example:465", 1);
    const char *path = write_file("eff.conf", "db = postgres://kith:hunter2@db.example:5432/k\n"
                                              "smtp_from = \" padded \"\n");
    char *argv[] = {"--config", (char *)path, "--log-format", "json"};
    CHECK_INT(load(0, 4, argv, &cfg, &conf, &err), KITH_OK);
    CHECK_STR(cfg.secret_key, "sk_live_supersecret"); /* the struct has it; printing does not */
    char *text = capture_effective(conf);
    CHECK(strstr(text, "supersecret") == NULL);
    CHECK(strstr(text, "hunter2") == NULL);
    CHECK(strstr(text, "pa55word") == NULL);
    CHECK(strstr(text, "secret_key = (redacted)") != NULL);
    CHECK(strstr(text, "db = postgres://kith:***@db.example:5432/k") != NULL);
    CHECK(strstr(text, "smtp_url = smtps://mailer:***@mail.example:465") != NULL);
    CHECK(strstr(text, "smtp_from = \" padded \"") != NULL);
    CHECK(strstr(text, "# environment KITH_SECRET_KEY") != NULL);
    CHECK(strstr(text, "# flag --log-format") != NULL);
    CHECK(strstr(text, ":1\n") != NULL); /* file eff.conf:1 */
    CHECK(strstr(text, "listen = 127.0.0.1:8080") != NULL);
    CHECK(strstr(text, "public_url =") != NULL);
    CHECK(strstr(text, "unset: http://<listen>") != NULL);
    /* One line per setting. */
    size_t lines = 0, n;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    app(&n);
    CHECK_INT(lines, n);
    free(text);
    kith_config_destroy(conf);
    clear_env();
}

static void test_help_and_docs_come_from_the_table(void)
{
    size_t n;
    const struct kith_config_setting *t = app(&n);
    char *help = NULL, *keys = NULL, *docs = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&help, &len);
    kith_config_write_help(t, n, KITH_CONFIG_CMD_SERVE, f);
    fclose(f);
    f = open_memstream(&keys, &len);
    kith_config_write_help(t, n, KITH_CONFIG_CMD_KEYS, f);
    fclose(f);
    f = open_memstream(&docs, &len);
    kith_config_write_docs(t, n, f);
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        char row[80];
        snprintf(row, sizeof(row), "| `%s` |", t[i].name);
        CHECK(strstr(docs, row) != NULL);
        CHECK(strstr(docs, t[i].env) != NULL);
        CHECK(strstr(help, t[i].env) != NULL);
        if (t[i].flag)
            CHECK(strstr(help, t[i].flag) != NULL);
        CHECK(strstr(help, t[i].help) != NULL);
    }
    CHECK(strstr(help, "--db-sync full|pipelined") != NULL);
    CHECK(strstr(help, "[127.0.0.1:8080]") != NULL);
    CHECK(strstr(docs, "--db-sync full\\|pipelined") != NULL); /* escaped in a table cell */
    CHECK(strstr(keys, "--db PATH|URL") != NULL);
    CHECK(strstr(keys, "--listen") == NULL);
    free(help);
    free(keys);
    free(docs);
}

/* A table of its own, for the INT type and a target that is not kith_app_config. */
struct test_target {
    int64_t port;
    const char *name;
    bool flag;
};

static const struct kith_config_setting test_table[] = {
    {.name = "port",
     .flag = "--port",
     .env = "TEST_PORT",
     .type = KITH_CONFIG_INT,
     .def = "10",
     .min = 1,
     .max = 100,
     .commands = 1,
     .offset = offsetof(struct test_target, port),
     .help = "a port"},
    {.name = "name",
     .flag = "--name",
     .env = "TEST_NAME",
     .type = KITH_CONFIG_STRING,
     .max = 5,
     .commands = 1,
     .offset = offsetof(struct test_target, name),
     .help = "a name"},
    {.name = "flag",
     .flag = "--flag",
     .type = KITH_CONFIG_BOOL,
     .commands = 1,
     .offset = offsetof(struct test_target, flag),
     .help = "a switch"},
};

static void test_generic_table(void)
{
    struct test_target t = {0};
    struct kith_config *conf = NULL;
    struct kith_err err = {{0}, {0}};
    size_t n = KITH_ARRAY_LEN(test_table);
    clear_env();
    CHECK_INT(kith_config_load(test_table, n, 1, 0, NULL, &t, &conf, &err), KITH_OK);
    CHECK_INT(t.port, 10);
    CHECK(t.name == NULL);
    CHECK(!t.flag);
    kith_config_destroy(conf);
    setenv("TEST_PORT", "100", 1);
    char *argv[] = {"--name", "abcde", "--flag"};
    CHECK_INT(kith_config_load(test_table, n, 1, 3, argv, &t, &conf, &err), KITH_OK);
    CHECK_INT(t.port, 100);
    CHECK_STR(t.name, "abcde");
    CHECK(t.flag);
    kith_config_destroy(conf);
    static const char *const bad_ports[] = {
        "0", "101", "-1", "1x", "x", " 5", "99999999999999999999"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(bad_ports); i++) {
        setenv("TEST_PORT", bad_ports[i], 1);
        CHECK_INT(kith_config_load(test_table, n, 1, 0, NULL, &t, NULL, &err),
                  KITH_E_INVALID_PARAM);
        CHECK(strstr(err.message, "from 1 to 100") != NULL);
    }
    unsetenv("TEST_PORT");
    char *too_long[] = {"--name=abcdef"};
    CHECK_INT(kith_config_load(test_table, n, 1, 1, too_long, &t, NULL, &err),
              KITH_E_INVALID_PARAM);
    CHECK(strstr(err.message, "longer than 5 bytes") != NULL);
    /* A command bit the settings do not carry: no flag is taken. */
    char *name[] = {"--name=x"};
    CHECK_INT(kith_config_load(test_table, n, 2, 1, name, &t, NULL, &err), KITH_E_INVALID_PARAM);
    clear_env();
}

static void check_json_line(const char *line, size_t len, const char *key, const char *value)
{
    CHECK(len > 0 && line[len - 1] == '\n');
    json_error_t e;
    json_t *j = json_loadb(line, len, 0, &e);
    if (j == NULL)
        fprintf(stderr, "not JSON (%s): %.*s", e.text, (int)len, line);
    CHECK(j != NULL);
    if (j && key) {
        json_t *v = json_object_get(j, key);
        CHECK(v != NULL);
        if (v && value == NULL)
            CHECK(json_is_true(v));
        else if (v && json_is_string(v))
            CHECK_STR(json_string_value(v), value);
        else if (v)
            CHECK_INT(json_integer_value(v), strtoll(value, NULL, 10));
    }
    json_decref(j);
}

static void test_log_formats(void)
{
    char line[512];
    size_t len;
    const char *ts = "2026-11-22T10:00:00Z";
    kith_log_format = KITH_LOG_TEXT;
    len = kith_log_format_line(line, sizeof(line), ts, KITH_LOG_WARN, "store",
                               "msg=\"exec failed\" rc=5");
    CHECK_INT(len, strlen("ts=2026-11-22T10:00:00Z level=warn comp=store msg=\"exec failed\" "
                          "rc=5\n"));
    CHECK(memcmp(line, "ts=2026-11-22T10:00:00Z level=warn comp=store msg=\"exec failed\" rc=5\n",
                 len) == 0);
    len = kith_log_format_access(line, sizeof(line), ts, "GET", NULL, 200, 12, 34);
    CHECK(memcmp(line, "access method=GET route=- status=200 bytes=12 dur_us=34\n", len) == 0);

    kith_log_format = KITH_LOG_JSON;
    len = kith_log_format_line(line, sizeof(line), ts, KITH_LOG_ERROR, "store",
                               "msg=\"exec \"x\" failed\" rc=5 during=commit error=\"a\\b\tc\"");
    check_json_line(line, len, "msg", "exec \"x\" failed");
    check_json_line(line, len, "rc", "5");
    check_json_line(line, len, "during", "commit");
    check_json_line(line, len, "error", "a\\b\tc");
    check_json_line(line, len, "level", "error");
    check_json_line(line, len, "ts", ts);
    len = kith_log_format_line(line, sizeof(line), ts, KITH_LOG_INFO, "x", "not pairs at all");
    check_json_line(line, len, "text", "not pairs at all");
    len = kith_log_format_line(line, sizeof(line), ts, KITH_LOG_INFO, "x", "msg=\xff\xfe");
    check_json_line(line, len, "msg", "\xef\xbf\xbd\xef\xbf\xbd");
    len = kith_log_format_line(line, sizeof(line), ts, KITH_LOG_INFO, "x",
                               "id=-12 big=123456789012345678901");
    check_json_line(line, len, "id", "-12");
    check_json_line(line, len, "big", "123456789012345678901");
    /* Cut to fit: still one valid object, marked. */
    char longtext[2000];
    memset(longtext, 'a', sizeof(longtext));
    memcpy(longtext, "msg=", 4);
    longtext[sizeof(longtext) - 1] = '\0';
    char small[128];
    len = kith_log_format_line(small, sizeof(small), ts, KITH_LOG_INFO, "x", longtext);
    CHECK(len <= sizeof(small));
    check_json_line(small, len, "cut", NULL);
    CHECK(strstr(small, "\"msg\":\"aaaa") != NULL); /* what fits of the message is kept */
    /* Cut inside a multi-byte character or an escape: whole ones only. */
    char wide[600] = "msg=";
    for (size_t i = 0; i < 100; i++)
        memcpy(wide + 4 + 3 * i, "\xc3\xa9\"", 4);
    for (size_t cap = 90; cap < 110; cap++) {
        len = kith_log_format_line(small, cap, ts, KITH_LOG_INFO, "x", wide);
        CHECK(len <= cap);
        check_json_line(small, len, "cut", NULL);
    }
    len = kith_log_format_line(small, 20, ts, KITH_LOG_INFO, "x", "a=b");
    CHECK(len <= 20);
    check_json_line(small, len, NULL, NULL);
    len = kith_log_format_access(line, sizeof(line), ts, "POST", "programs.create", 201, 99, 7);
    check_json_line(line, len, "log", "access");
    check_json_line(line, len, "route", "programs.create");
    check_json_line(line, len, "status", "201");
    check_json_line(line, len, "dur_us", "7");
    kith_log_format = KITH_LOG_TEXT;

    kith_log_min_level = KITH_LOG_WARN;
    CHECK(!kith_log_enabled(KITH_LOG_INFO)); /* the access log's level */
    CHECK(kith_log_enabled(KITH_LOG_WARN));
    kith_log_min_level = KITH_LOG_INFO;
    CHECK(kith_log_enabled(KITH_LOG_INFO));
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/kith-test-config-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_table_is_consistent);
    RUN(test_defaults);
    RUN(test_environment_and_flags);
    RUN(test_bad_values_are_refused_where_they_come_from);
    RUN(test_flags_by_command);
    RUN(test_config_file);
    RUN(test_config_file_errors_name_the_line);
    RUN(test_effective_settings_redact_secrets);
    RUN(test_help_and_docs_come_from_the_table);
    RUN(test_generic_table);
    RUN(test_log_formats);
    static const char *const files[] = {"good.conf", "other.conf", "bad.conf", "eff.conf"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(files); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
        unlink(path);
    }
    rmdir(tmpdir);
    TEST_DONE();
}

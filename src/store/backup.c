/*
 * backup.c: a consistent copy of a live SQLite database (kith backup), with SQLite's online
 * backup API. The copy is one read transaction of the source, so it is a snapshot of committed
 * data even while a server writes (WAL mode lets the writer go on); it is written to a temporary
 * file beside the target, checked with PRAGMA integrity_check, synced, and renamed into place, so
 * an interrupted backup never leaves a half file under the target's name. PostgreSQL databases
 * are backed up with PostgreSQL's own tools (docs/postgresql.md). It is not for restoring: a
 * backup is an ordinary kith database file.
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kith/store.h"

static enum kith_status fail(struct kith_err *err, sqlite3 *db, const char *what)
{
    return kith_err_set(err, KITH_E_UNAVAILABLE, NULL, "%s: %s", what,
                        db ? sqlite3_errmsg(db) : "out of memory");
}

enum kith_status kith_store_backup(const char *db_path, const char *out_path, struct kith_err *err)
{
    sqlite3 *src = NULL, *dst = NULL;
    enum kith_status st = KITH_OK;
    char tmp[4096];
    if (strncmp(db_path, "postgres://", 11) == 0 || strncmp(db_path, "postgresql://", 13) == 0)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "db",
                            "kith backup copies SQLite databases; back PostgreSQL up with "
                            "pg_dump (docs/postgresql.md)");
    if (snprintf(tmp, sizeof(tmp), "%s.partial", out_path) >= (int)sizeof(tmp))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "out", "the output path is too long");
    if (access(out_path, F_OK) == 0)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "out", "%s exists: choose a new file",
                            out_path);
    if (sqlite3_open_v2(db_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        st = fail(err, src, "cannot open the database");
        goto out;
    }
    sqlite3_busy_timeout(src, 10000);
    unlink(tmp);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        st = fail(err, dst, "cannot create the backup");
        goto out;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        st = fail(err, dst, "cannot start the backup");
        goto out;
    }
    /* All pages in one step: one read transaction, one snapshot. */
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        st = kith_err_set(err, KITH_E_UNAVAILABLE, NULL, "the backup failed: %s",
                          sqlite3_errstr(rc));
        goto out;
    }
    /* A copy is a database of its own: no WAL beside it, checked before it counts. */
    char *msg = NULL;
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, &msg) != SQLITE_OK) {
        sqlite3_free(msg);
        st = fail(err, dst, "cannot finish the backup");
        goto out;
    }
    sqlite3_stmt *check = NULL;
    bool ok = sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &check, NULL) == SQLITE_OK &&
              sqlite3_step(check) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(check, 0), "ok") == 0;
    sqlite3_finalize(check);
    if (!ok) {
        st = kith_err_set(err, KITH_E_INTERNAL, NULL, "the backup failed its integrity check");
        goto out;
    }
    sqlite3_close(dst);
    dst = NULL;
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        if (fd >= 0)
            close(fd);
        st = kith_err_set(err, KITH_E_UNAVAILABLE, NULL, "cannot sync the backup");
        goto out;
    }
    close(fd);
    if (rename(tmp, out_path) != 0) {
        st = kith_err_set(err, KITH_E_UNAVAILABLE, NULL, "cannot move the backup into place");
        goto out;
    }
out:
    sqlite3_close(dst);
    sqlite3_close(src);
    if (st != KITH_OK)
        unlink(tmp);
    return st;
}

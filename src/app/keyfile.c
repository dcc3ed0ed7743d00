/*
 * keyfile.c: the hashing key kept outside the database (KITH_HASH_KEY_FILE). A copy of the
 * database alone then cannot be used to brute-force the 2^32 IPv4 hashes it holds. The file is
 * 64 hex characters and a newline, created once with mode 0600 (O_EXCL, synced with its
 * directory before the database lets go of its own copy), and refused when others may read it.
 * It is not for deciding which key is right: the engine compares it with the database's.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "kith/crypto.h"

#define KEY_HEX (KITH_CRYPTO_KEY_BYTES * 2)

enum kith_status kith_app_key_file_read(const char *path, uint8_t key[KITH_CRYPTO_KEY_BYTES],
                                        bool *exists, struct kith_err *err)
{
    char text[KEY_HEX + 2];
    *exists = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return KITH_OK;
        return kith_err_set(err, KITH_E_INVALID_PARAM, "KITH_HASH_KEY_FILE",
                            "cannot open the hash key file: %s", strerror(errno));
    }
    struct stat sb;
    enum kith_status st = KITH_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "KITH_HASH_KEY_FILE",
                          "the hash key file is not a regular file");
        goto out;
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "KITH_HASH_KEY_FILE",
                          "the hash key file may be read by others: chmod 600 it");
        goto out;
    }
    ssize_t n = read(fd, text, sizeof(text));
    if (n < KEY_HEX || (n > KEY_HEX && text[KEY_HEX] != '\n')) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "KITH_HASH_KEY_FILE",
                          "the hash key file must hold 64 hex characters");
        goto out;
    }
    text[KEY_HEX] = '\0';
    if (!kith_crypto_hex2bin(key, KITH_CRYPTO_KEY_BYTES, text)) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "KITH_HASH_KEY_FILE",
                          "the hash key file must hold 64 hex characters");
        goto out;
    }
    *exists = true;
out:
    kith_crypto_wipe(text, sizeof(text));
    close(fd);
    return st;
}

enum kith_status kith_app_key_file_create(const char *path,
                                          const uint8_t key[KITH_CRYPTO_KEY_BYTES],
                                          struct kith_err *err)
{
    char text[KEY_HEX + 2];
    kith_crypto_bin2hex(text, KEY_HEX + 1, key, KITH_CRYPTO_KEY_BYTES);
    text[KEY_HEX] = '\n';
    enum kith_status st = KITH_OK;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "KITH_HASH_KEY_FILE",
                          "cannot create the hash key file: %s", strerror(errno));
        goto out;
    }
    if (write(fd, text, KEY_HEX + 1) != KEY_HEX + 1 || fsync(fd) != 0) {
        st = kith_err_set(err, KITH_E_UNAVAILABLE, "KITH_HASH_KEY_FILE",
                          "cannot write the hash key file: %s", strerror(errno));
        close(fd);
        unlink(path);
        goto out;
    }
    close(fd);
    /* The file's name must be durable too before the database forgets its copy. */
    char dir[4096];
    kith_strlcpy(dir, path, sizeof(dir));
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    kith_crypto_wipe(text, sizeof(text));
    return st;
}

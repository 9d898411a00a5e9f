/* Unit tests for src/core: errors, diagnostics, allocation failure injection, atomic writers, SHA-256. */
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"

static void test_errors(void)
{
    cs_error_clear();
    CHECK(cs_error_last()->status == CS_OK);
    CHECK(cs_error_set_at(CS_EPARSE, "a.csv", 3, 4, "bad %s", "x") == CS_EPARSE);
    CHECK(!strcmp(cs_error_last()->message, "bad x"));
    CHECK(cs_error_last()->line == 3 && cs_error_last()->column == 4);
    cs_error_prefix("reading");
    CHECK(!strcmp(cs_error_last()->message, "reading: bad x"));
    for (int s = 0; s <= CS_EUNSUPPORTED; s++) CHECK(cs_strerror((cs_status)s)[0] != 0);
    cs_diag *d = cs_diag_new();
    CHECK_OK(cs_diag_add(d, CS_SEV_ERROR, CS_EPARSE, "c.csv", 5, 2, "", "population: expected a number, got '%s'", "n/a"));
    CHECK_OK(cs_diag_add(d, CS_SEV_WARNING, CS_OK, "", 0, 0, "city 7", "far from roads"));
    char buf[256];
    cs_diag_format(d, 0, buf, sizeof buf);
    CHECK(!strcmp(buf, "c.csv:5:2: error: population: expected a number, got 'n/a'"));
    cs_diag_format(d, 1, buf, sizeof buf);
    CHECK(!strcmp(buf, "warning: city 7: far from roads"));
    CHECK(cs_diag_count(d) == 2 && cs_diag_errors(d) == 1);
    cs_diag_free(d);
}

static void test_alloc(void)
{
    cs_alloc_fail_after(2, 0);
    void *a = cs_malloc(8);
    void *b = cs_malloc(8);
    void *c = cs_malloc(8);
    CHECK(a != NULL && b == NULL && c != NULL);
    CHECK(cs_error_last()->status == CS_ENOMEM);
    cs_free(a);
    cs_free(c);
    cs_alloc_fail_after(0, 0);
    /* every allocation of a matrix build fails cleanly */
    for (long n = 1; n < 12; n++) {
        cs_matrix *m = NULL;
        cs_alloc_fail_after(n, 1);
        cs_status st = cs_matrix_new(3, 4, CS_MATRIX_TIME, &m);
        cs_alloc_fail_after(0, 0);
        CHECK(st == CS_OK || (st == CS_ENOMEM && m == NULL));
        cs_matrix_free(m);
    }
}

static void test_atomic(void)
{
    char dir[] = "/tmp/cs-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    CHECK_OK(cs_write_file_atomic(path, "one", 3));
    cs_atomic_file *f;
    CHECK_OK(cs_atomic_open(path, &f));
    CHECK_OK(cs_atomic_write(f, "two", 3));
    cs_atomic_abort(f); /* target untouched */
    char *data;
    size_t n;
    CHECK_OK(cs_read_file(path, &data, &n));
    CHECK(n == 3 && !memcmp(data, "one", 3));
    cs_free(data);
    /* directory swap */
    char od[256], fpath[300];
    snprintf(od, sizeof od, "%s/outdir", dir);
    for (int round = 0; round < 2; round++) {
        cs_atomic_dir *ad;
        CHECK_OK(cs_atomic_dir_begin(od, &ad));
        snprintf(fpath, sizeof fpath, "%s/r.txt", cs_atomic_dir_path(ad));
        CHECK_OK(cs_write_file_atomic(fpath, round ? "B" : "A", 1));
        CHECK_OK(cs_atomic_dir_commit(ad));
        snprintf(fpath, sizeof fpath, "%s/r.txt", od);
        CHECK_OK(cs_read_file(fpath, &data, &n));
        CHECK(n == 1 && data[0] == (round ? 'B' : 'A'));
        cs_free(data);
    }
    cs_atomic_dir *ad;
    CHECK_OK(cs_atomic_dir_begin(od, &ad));
    cs_atomic_dir_abort(ad);
    CHECK_OK(cs_read_file(fpath, &data, &n));
    CHECK(n == 1 && data[0] == 'B');
    cs_free(data);
    CHECK_OK(cs_remove_tree(dir));
}

static void test_sha(void)
{
    cs_sha256 s;
    char hex[65];
    cs_sha256_init(&s);
    cs_sha256_update(&s, "abc", 3);
    cs_sha256_hex(&s, hex);
    CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    cs_sha256_init(&s);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    cs_sha256_update(&s, m, strlen(m));
    cs_sha256_hex(&s, hex);
    CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    CHECK(cs_checksum64("abc", 3, 0) != cs_checksum64("abd", 3, 0));
}

int main(void)
{
    test_errors();
    test_alloc();
    test_atomic();
    test_sha();
    CHECK(strlen(cs_dependency_versions()) > 20);
    TEST_MAIN_END();
}

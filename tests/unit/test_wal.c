/* test_wal.c - the write-ahead log: round trips across rotation, torn tails
 * cut at every offset, corruption refused with file and offset, truncation,
 * injected I/O failures, and reading entries back by index. */
#include "storage/sio.h"
#include "storage/wal.h"
#include "util/log.h"

#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC_HEADER 28
#define SEG_HEADER 24

static char test_root[256];
static int test_seq;

/* ---- helpers ----------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new, existing, empty data dir. */
static const char *fresh_dir(void)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s/d%d", test_root, ++test_seq);
    mkdir(path, 0700);
    return path;
}

static uint32_t payload_len(uint64_t index)
{
    return (uint32_t)(index * 7 % 61);
}

static uint8_t payload_byte(uint64_t index, uint32_t i)
{
    return (uint8_t)(index * 31 + i * 7 + 1) | 1; /* never zero */
}

static uint64_t term_of(uint64_t index)
{
    return 1 + index / 50;
}

/* Entries FIRST..LAST with terms from TERM (0: term_of) and payloads. */
static struct raft_entry *make_entries(uint64_t first, uint64_t last,
                                       uint64_t term)
{
    size_t n = (size_t)(last - first + 1);
    struct raft_entry *e = calloc(n, sizeof(*e));

    for (size_t i = 0; i < n; i++) {
        uint64_t index = first + i;

        e[i].index = index;
        e[i].term = term ? term : term_of(index);
        e[i].type = index % 5 == 0 ? RAFT_ENTRY_NOOP : RAFT_ENTRY_NORMAL;
        e[i].len = payload_len(index);
        e[i].data = e[i].len ? malloc(e[i].len) : NULL;
        for (uint32_t j = 0; j < e[i].len; j++) {
            e[i].data[j] = payload_byte(index, j);
        }
    }
    return e;
}

static void free_entries(struct raft_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].data);
    }
    free(e);
}

static int open_wal(const char *dir, uint64_t seg_size, struct wal **w,
                    struct wal_entries *got, char *err, size_t errlen)
{
    struct wal_options opt;

    wal_options_init(&opt);
    if (seg_size) {
        opt.segment_size = seg_size;
    }
    return wal_open(dir, &opt, w, got, err, errlen);
}

/* Append FIRST..LAST (term 0: term_of) in batches of BATCH; 0 or the code. */
static int append_range(struct wal *w, uint64_t first, uint64_t last,
                        uint64_t term, size_t batch)
{
    char err[512];

    for (uint64_t i = first; i <= last; i += batch) {
        uint64_t end = i + batch - 1 < last ? i + batch - 1 : last;
        struct raft_entry *e = make_entries(i, end, term);
        int rc = wal_append(w, e, (size_t)(end - i + 1), err, sizeof(err));

        free_entries(e, (size_t)(end - i + 1));
        if (rc != WAL_OK) {
            return rc; /* some tests expect it: the caller checks */
        }
    }
    return 0;
}

/* A data dir holding entries 1..LAST, synced, with segments of SEG bytes. */
static const char *dir_with(uint64_t last, uint64_t seg_size)
{
    const char *dir = fresh_dir();
    struct wal_entries got;
    struct wal *w;
    char err[512];

    if (open_wal(dir, seg_size, &w, &got, err, sizeof(err)) != WAL_OK) {
        fprintf(stderr, "open %s: %s\n", dir, err);
        return dir;
    }
    append_range(w, 1, last, 0, 7);
    wal_sync(w, NULL, err, sizeof(err));
    wal_close(w);
    return dir;
}

/* Check that GOT holds FIRST..LAST as make_entries() makes them, terms
 * from term_of() below TERM_FROM and TERM at or above it. */
static int entries_ok(const struct wal_entries *got, uint64_t first,
                      uint64_t last, uint64_t term_from, uint64_t term)
{
    if (got->first_index != first || got->last_index != last ||
        got->n != last - first + 1) {
        fprintf(stderr, "got %llu..%llu (%zu), want %llu..%llu\n",
                (unsigned long long)got->first_index,
                (unsigned long long)got->last_index, got->n,
                (unsigned long long)first, (unsigned long long)last);
        return 0;
    }
    for (size_t i = 0; i < got->n; i++) {
        const struct raft_entry *e = &got->entries[i];
        uint64_t index = first + i;
        uint64_t want = index >= term_from ? term : term_of(index);

        if (e->index != index || e->term != want ||
            e->len != payload_len(index) ||
            e->type != (index % 5 == 0 ? RAFT_ENTRY_NOOP : RAFT_ENTRY_NORMAL)) {
            fprintf(stderr, "entry %llu differs\n", (unsigned long long)index);
            return 0;
        }
        for (uint32_t j = 0; j < e->len; j++) {
            if (e->data[j] != payload_byte(index, j)) {
                fprintf(stderr, "entry %llu byte %u differs\n",
                        (unsigned long long)index, j);
                return 0;
            }
        }
    }
    return 1;
}

/* Reopen DIR and check it holds 1..LAST; 1 when it does. */
static int reopen_holds(const char *dir, uint64_t last)
{
    struct wal_entries got;
    struct wal *w;
    char err[512];
    int ok;

    if (open_wal(dir, 0, &w, &got, err, sizeof(err)) != WAL_OK) {
        fprintf(stderr, "reopen %s: %s\n", dir, err);
        return 0;
    }
    ok = entries_ok(&got, 1, last, UINT64_MAX, 0);
    wal_entries_free(&got);
    wal_close(w);
    return ok;
}

/* The segment files of DIR, sorted, as full paths; returns how many. */
static int segments(const char *dir, char paths[][1024], int max)
{
    char wdir[560];
    struct dirent **names;
    int n, k = 0;

    snprintf(wdir, sizeof(wdir), "%s/wal", dir);
    n = scandir(wdir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]->d_name);

        if (len > 4 && strcmp(names[i]->d_name + len - 4, ".seg") == 0 &&
            k < max) {
            snprintf(paths[k++], 1024, "%s/%s", wdir, names[i]->d_name);
        }
        free(names[i]);
    }
    if (n >= 0) {
        free(names);
    }
    return k;
}

static uint8_t *read_all(const char *path, size_t *size)
{
    struct stat st;
    uint8_t *buf;
    int fd = open(path, O_RDONLY);

    *size = 0;
    if (fd < 0 || fstat(fd, &st) < 0) {
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    *size = (size_t)read(fd, buf, (size_t)st.st_size);
    close(fd);
    return buf;
}

static void write_all(const char *path, const uint8_t *buf, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || write(fd, buf, size) != (ssize_t)size) {
        fprintf(stderr, "write %s failed\n", path);
    }
    if (fd >= 0) {
        close(fd);
    }
}

static size_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (size_t)st.st_size : (size_t)-1;
}

/* Offset of the record of INDEX in a segment starting at FIRST. */
static size_t record_offset(uint64_t first, uint64_t index)
{
    size_t off = SEG_HEADER;

    for (uint64_t i = first; i < index; i++) {
        off += REC_HEADER + payload_len(i);
    }
    return off;
}

/* ---- tests ------------------------------------------------------------- */

TEST(wal_fresh_dir_opens_empty)
{
    const char *dir = fresh_dir();
    struct wal_entries got;
    struct wal *w;
    char err[512], wdir[1024];
    struct stat st;
    uint64_t durable = 99;

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(got.n, 0);
    EXPECT_EQ(got.first_index, 1);
    EXPECT_EQ(got.last_index, 0);
    EXPECT_EQ(wal_first_index(w), 1);
    EXPECT_EQ(wal_last_index(w), 0);
    EXPECT_EQ(wal_sync(w, &durable, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(durable, 0);
    snprintf(wdir, sizeof(wdir), "%s/wal", dir);
    EXPECT_EQ(stat(wdir, &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    wal_close(w);
}

TEST(wal_missing_data_dir_is_an_error)
{
    char dir[1024], err[512];
    struct wal_entries got;
    struct wal *w;

    snprintf(dir, sizeof(dir), "%s/no/such/dir", test_root);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_ERR_IO);
    EXPECT_TRUE(w == NULL);
    EXPECT_TRUE(strstr(err, dir) != NULL);
    EXPECT_TRUE(strstr(err, strerror(ENOENT)) != NULL);
}

TEST(wal_round_trip_across_rotation)
{
    const char *dir = fresh_dir();
    char segs[64][1024], err[512];
    struct wal_entries got;
    struct wal *w;
    uint64_t durable;
    int nseg;

    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(append_range(w, 1, 500, 0, 7), 0);
    EXPECT_EQ(wal_last_index(w), 500);
    EXPECT_EQ(wal_sync(w, &durable, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(durable, 500);
    wal_close(w);

    nseg = segments(dir, segs, 64);
    EXPECT_TRUE(nseg > 5);
    for (int i = 0; i + 1 < nseg; i++) {
        EXPECT_TRUE(file_size(segs[i]) <= 4096);
    }
    EXPECT_TRUE(strstr(segs[0], "/00000000000000000001.seg") != NULL);

    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_TRUE(entries_ok(&got, 1, 500, UINT64_MAX, 0));
    EXPECT_EQ(wal_durable_index(w), 500);
    wal_entries_free(&got);
    EXPECT_EQ(append_range(w, 501, 600, 0, 13), 0);
    EXPECT_EQ(wal_sync(w, &durable, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(durable, 600);
    wal_close(w);
    EXPECT_TRUE(reopen_holds(dir, 600));
}

/* Many batches, one sync: one fdatasync covers them all. */
TEST(wal_group_commit_is_one_fdatasync)
{
    const char *dir = dir_with(10, 0);
    struct wal_entries got;
    struct wal *w;
    uint64_t durable;
    char err[512];

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    sio_fault_clear();
    EXPECT_EQ(append_range(w, 11, 40, 0, 3), 0);
    EXPECT_EQ(wal_durable_index(w), 10);
    EXPECT_EQ(sio_calls(SIO_FSYNC), 0);
    EXPECT_EQ(wal_sync(w, &durable, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(durable, 40);
    EXPECT_EQ(sio_calls(SIO_FSYNC), 1);
    EXPECT_EQ(sio_calls(SIO_WRITE), 1);

    /* Nothing new: no fdatasync at all. */
    EXPECT_EQ(wal_sync(w, &durable, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(sio_calls(SIO_FSYNC), 1);
    wal_close(w);
    EXPECT_TRUE(reopen_holds(dir, 40));
}

TEST(wal_append_rejects_bad_batches)
{
    const char *dir = dir_with(10, 0);
    struct raft_entry *e = make_entries(11, 13, 0);
    struct wal_entries got;
    struct wal *w;
    char err[512];

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);

    e[1].index = 20;
    EXPECT_EQ(wal_append(w, e, 3, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_TRUE(strstr(err, "expects 12") != NULL);
    e[1].index = 12;
    e[2].term = 0;
    EXPECT_EQ(wal_append(w, e, 3, err, sizeof(err)), WAL_ERR_RANGE);
    e[2].term = term_of(13);
    e[2].len = WAL_MAX_PAYLOAD + 1;
    EXPECT_EQ(wal_append(w, e, 3, err, sizeof(err)), WAL_ERR_RANGE);
    e[2].len = payload_len(13);
    EXPECT_EQ(wal_last_index(w), 10);

    /* A refused batch does not fail the log. */
    EXPECT_EQ(wal_append(w, e, 3, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_OK);
    free_entries(e, 3);
    wal_close(w);
    EXPECT_TRUE(reopen_holds(dir, 13));
}

/* An entry larger than the segment size gets a segment of its own. */
TEST(wal_large_entry_gets_own_segment)
{
    const char *dir = dir_with(5, 4096);
    struct raft_entry e = {.term = 9, .index = 6, .len = 20000};
    char segs[8][1024], err[512];
    struct wal_entries got;
    struct wal *w;

    e.data = malloc(e.len);
    memset(e.data, 0x5a, e.len);
    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(wal_append(w, &e, 1, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_OK);
    wal_close(w);
    EXPECT_EQ(segments(dir, segs, 8), 2);
    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(got.n, 6);
    EXPECT_EQ(got.entries[5].len, 20000);
    EXPECT_EQ(got.entries[5].data[19999], 0x5a);
    wal_entries_free(&got);
    wal_close(w);
    free(e.data);
}

/* Cut the last record at every byte: each opens, loses only that record,
 * leaves the file ending where it ended, and takes the record again. */
TEST(wal_torn_tail_is_cut_at_every_offset)
{
    const char *dir = dir_with(20, 0);
    size_t off = record_offset(1, 20), size;
    char segs[2][1024], err[512];
    struct wal_entries got;
    uint8_t *orig;
    struct wal *w;

    EXPECT_EQ(segments(dir, segs, 2), 1);
    orig = read_all(segs[0], &size);
    EXPECT_EQ(size, off + REC_HEADER + payload_len(20));
    for (size_t cut = off; cut < size; cut++) {
        write_all(segs[0], orig, cut);
        EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
        EXPECT_TRUE(entries_ok(&got, 1, 19, UINT64_MAX, 0));
        wal_entries_free(&got);
        EXPECT_EQ(file_size(segs[0]), off);
        EXPECT_EQ(append_range(w, 20, 20, 0, 1), 0);
        EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_OK);
        wal_close(w);
        EXPECT_TRUE(reopen_holds(dir, 20));
    }
    free(orig);
}

/* A bit flipped anywhere in the last record: a torn tail, cut. */
TEST(wal_bad_checksum_at_tail_is_cut)
{
    const char *dir = dir_with(20, 0);
    size_t off = record_offset(1, 20), size;
    char segs[2][1024], err[512];
    struct wal_entries got;
    uint8_t *orig;
    struct wal *w;

    EXPECT_EQ(segments(dir, segs, 2), 1);
    orig = read_all(segs[0], &size);
    for (size_t i = off; i < size; i++) {
        orig[i] ^= 0x10;
        write_all(segs[0], orig, size);
        orig[i] ^= 0x10;
        EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
        EXPECT_EQ(got.last_index, 19);
        wal_entries_free(&got);
        wal_close(w);
    }
    free(orig);
}

/* A bit flipped in any byte of a record with records after it: refused,
 * naming the file and the record's offset; the file is left alone. */
TEST(wal_bit_flip_in_the_middle_refuses)
{
    const char *dir = dir_with(20, 0);
    size_t off = record_offset(1, 10), end = record_offset(1, 11), size;
    char segs[2][1024], err[512], want[1200];
    struct wal_entries got;
    uint8_t *orig;
    struct wal *w;

    EXPECT_EQ(segments(dir, segs, 2), 1);
    orig = read_all(segs[0], &size);
    snprintf(want, sizeof(want), "%s: corrupt record at offset %zu", segs[0],
             off);
    for (size_t i = off; i < end; i++) {
        orig[i] ^= 0x01;
        write_all(segs[0], orig, size);
        orig[i] ^= 0x01;
        EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)),
                  WAL_ERR_CORRUPT);
        EXPECT_TRUE(w == NULL);
        EXPECT_EQ(got.n, 0);
        if (strstr(err, want) == NULL) {
            HARNESS_FAIL("byte %zu: \"%s\" lacks \"%s\"", i, err, want);
            return;
        }
        EXPECT_EQ(file_size(segs[0]), size);
    }
    free(orig);
}

/* Any damage in a segment that is not the last one is corruption, even in
 * its last record: that segment was synced before the next one began. */
TEST(wal_damage_in_earlier_segment_refuses)
{
    const char *dir = dir_with(200, 4096);
    char segs[64][1024], err[512];
    struct wal_entries got;
    struct wal *w;
    size_t size;
    uint8_t *buf;

    EXPECT_TRUE(segments(dir, segs, 64) > 2);
    buf = read_all(segs[0], &size);
    buf[size - 1] ^= 0x80;
    write_all(segs[0], buf, size);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, segs[0]) != NULL);
    EXPECT_TRUE(strstr(err, "offset") != NULL);

    buf[size - 1] ^= 0x80;
    write_all(segs[0], buf, size - 1);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, segs[0]) != NULL);

    write_all(segs[0], buf, 10);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "shorter than a segment header") != NULL);

    buf[3] ^= 1;
    write_all(segs[0], buf, size);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "offset 0") != NULL);
    free(buf);
}

/* A sector of zeros (a page that never reached the disk) in the unsynced
 * tail, with whole records after it: still a torn tail. */
TEST(wal_unwritten_sector_before_later_records_is_torn)
{
    const char *dir = dir_with(150, 0);
    char segs[2][1024], err[512];
    struct wal_entries got;
    uint64_t first_bad = 0;
    struct wal *w;
    size_t size;
    uint8_t *buf;

    EXPECT_EQ(segments(dir, segs, 2), 1);
    buf = read_all(segs[0], &size);
    EXPECT_TRUE(size > 4096);
    memset(buf + 2048, 0, 512);
    write_all(segs[0], buf, size);
    for (uint64_t i = 1; i <= 150 && !first_bad; i++) {
        if (record_offset(1, i + 1) > 2048) {
            first_bad = i;
        }
    }
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_TRUE(entries_ok(&got, 1, first_bad - 1, UINT64_MAX, 0));
    EXPECT_EQ(file_size(segs[0]), record_offset(1, first_bad));
    wal_entries_free(&got);
    wal_close(w);

    /* The same bytes as garbage instead of zeros: corruption. */
    memset(buf + 2048, 0xaa, 512);
    write_all(segs[0], buf, size);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_ERR_CORRUPT);
    free(buf);
}

/* A record whose checksum holds but whose index is out of sequence was
 * written whole: corruption, not a torn tail, even at the very end. */
TEST(wal_out_of_sequence_record_refuses)
{
    char dir[600];
    struct raft_entry *e = make_entries(5, 5, 0);
    struct wal_entries got;
    struct wal *w;
    char err[512], wdir[1024], path[1200];
    struct stat st;

    char other[600];

    /* Forge it: a log that starts at 5, copied over the tail of 1..3. */
    snprintf(other, sizeof(other), "%s", fresh_dir());
    snprintf(dir, sizeof(dir), "%s", dir_with(3, 0));

    EXPECT_EQ(open_wal(other, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_reset(w, 5, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_append(w, e, 1, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_OK);
    wal_close(w);
    free_entries(e, 1);
    {
        size_t n1, n2;
        uint8_t *a, *b, *c;

        snprintf(path, sizeof(path), "%s/wal/00000000000000000005.seg", other);
        b = read_all(path, &n2);
        snprintf(wdir, sizeof(wdir), "%s/wal", dir);
        snprintf(path, sizeof(path), "%s/00000000000000000001.seg", wdir);
        a = read_all(path, &n1);
        c = malloc(n1 + n2);
        memcpy(c, a, n1);
        memcpy(c + n1, b + SEG_HEADER, n2 - SEG_HEADER);
        write_all(path, c, n1 + n2 - SEG_HEADER);
        free(a);
        free(b);
        free(c);
    }
    EXPECT_EQ(stat(path, &st), 0);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "index 5") != NULL);
}

/* Header only: a valid empty segment that fixes the next index. */
TEST(wal_header_only_segment_is_an_empty_log)
{
    const char *dir = fresh_dir();
    char segs[4][1024], err[512];
    struct wal_entries got;
    struct wal *w;

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_reset(w, 100, err, sizeof(err)), WAL_OK);
    wal_close(w);
    EXPECT_EQ(segments(dir, segs, 4), 1);
    EXPECT_EQ(file_size(segs[0]), SEG_HEADER);

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(got.n, 0);
    EXPECT_EQ(got.first_index, 100);
    EXPECT_EQ(got.last_index, 99);
    EXPECT_EQ(append_range(w, 1, 1, 0, 1), WAL_ERR_RANGE);
    EXPECT_EQ(append_range(w, 100, 120, 0, 4), 0);
    EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_OK);
    wal_close(w);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_TRUE(entries_ok(&got, 100, 120, UINT64_MAX, 0));
    wal_entries_free(&got);
    wal_close(w);
}

/* Zero bytes, or less than a header, as the last segment: it holds no
 * entry, so it is removed. Anywhere else it is corruption. */
TEST(wal_runt_last_segment_is_removed)
{
    const char *dir = dir_with(10, 0);
    char path[1200], err[512];
    struct wal_entries got;
    struct wal *w;

    snprintf(path, sizeof(path), "%s/wal/00000000000000000011.seg", dir);
    write_all(path, (const uint8_t *)"VWA", 3);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_TRUE(entries_ok(&got, 1, 10, UINT64_MAX, 0));
    EXPECT_EQ(access(path, F_OK), -1);
    wal_entries_free(&got);
    wal_close(w);

    dir = fresh_dir();
    snprintf(path, sizeof(path), "%s/wal", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/wal/00000000000000000001.seg", dir);
    write_all(path, NULL, 0);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(got.n, 0);
    EXPECT_EQ(got.first_index, 1);
    EXPECT_EQ(access(path, F_OK), -1);
    wal_close(w);
}

TEST(wal_missing_or_misnamed_segment_refuses)
{
    const char *dir = dir_with(400, 4096);
    char segs[64][1024], err[512], moved[1200];
    struct wal_entries got;
    struct wal *w;
    int n = segments(dir, segs, 64);

    EXPECT_TRUE(n > 3);
    EXPECT_EQ(rename(segs[1], "/tmp/varde-test-wal-moved.seg"), 0);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "does not follow") != NULL);
    EXPECT_TRUE(strstr(err, segs[2]) != NULL);

    snprintf(moved, sizeof(moved), "%s/wal/00000000000000000002.seg", dir);
    EXPECT_EQ(rename("/tmp/varde-test-wal-moved.seg", moved), 0);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "header says first index") != NULL);
}

TEST(wal_unfinished_segment_creation_is_removed)
{
    const char *dir = dir_with(10, 0);
    char path[1200], other[1200], err[512];
    struct wal_entries got;
    struct wal *w;

    snprintf(path, sizeof(path), "%s/wal/00000000000000000011.seg.tmp", dir);
    write_all(path, (const uint8_t *)"partial", 7);
    snprintf(other, sizeof(other), "%s/wal/README", dir);
    write_all(other, (const uint8_t *)"x", 1);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(got.n, 10);
    EXPECT_EQ(access(path, F_OK), -1);
    EXPECT_EQ(access(other, F_OK), 0);
    wal_entries_free(&got);
    wal_close(w);
}

TEST(wal_truncate_suffix_then_reopen)
{
    const char *dir = dir_with(100, 4096);
    struct wal_entries got;
    struct wal *w;
    uint64_t durable;
    char err[512];

    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);

    EXPECT_EQ(wal_truncate_suffix(w, 0, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_EQ(wal_truncate_suffix(w, 102, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_EQ(wal_truncate_suffix(w, 101, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_last_index(w), 100);

    EXPECT_EQ(wal_truncate_suffix(w, 37, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_last_index(w), 36);
    EXPECT_EQ(wal_durable_index(w), 36);
    EXPECT_EQ(append_range(w, 37, 80, 9, 5), 0);
    EXPECT_EQ(wal_sync(w, &durable, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(durable, 80);
    wal_close(w);

    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_TRUE(entries_ok(&got, 1, 80, 37, 9));
    wal_entries_free(&got);
    wal_close(w);
}

/* Cut exactly at a segment's first index, at unsynced entries, and the
 * whole log. */
TEST(wal_truncate_suffix_edges)
{
    const char *dir = dir_with(400, 4096);
    char segs[64][1024], err[512], name[64];
    struct wal_entries got;
    struct wal *w;
    uint64_t boundary;
    int n = segments(dir, segs, 64);

    EXPECT_TRUE(n > 3);
    boundary = strtoull(strrchr(segs[2], '/') + 1, NULL, 10);
    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(wal_truncate_suffix(w, boundary, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_last_index(w), boundary - 1);
    EXPECT_EQ(segments(dir, segs, 64), 3);
    EXPECT_EQ(file_size(segs[2]), SEG_HEADER);

    /* Unsynced entries, then a cut among them. */
    EXPECT_EQ(append_range(w, boundary, boundary + 9, 0, 10), 0);
    EXPECT_EQ(wal_durable_index(w), boundary - 1);
    EXPECT_EQ(wal_truncate_suffix(w, boundary + 5, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_durable_index(w), boundary + 4);
    wal_close(w);
    EXPECT_TRUE(reopen_holds(dir, boundary + 4));

    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(wal_truncate_suffix(w, 1, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_last_index(w), 0);
    EXPECT_EQ(append_range(w, 1, 3, 0, 3), 0);
    EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_OK);
    wal_close(w);
    EXPECT_EQ(segments(dir, segs, 64), 1);
    snprintf(name, sizeof(name), "/00000000000000000001.seg");
    EXPECT_TRUE(strstr(segs[0], name) != NULL);
    EXPECT_TRUE(reopen_holds(dir, 3));
}

TEST(wal_truncate_prefix_drops_whole_segments)
{
    const char *dir = dir_with(300, 4096);
    char segs[64][1024], err[512];
    struct wal_entries got;
    struct wal *w;
    uint64_t first;
    int before = segments(dir, segs, 64), after;

    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(wal_truncate_prefix(w, 1, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_first_index(w), 1);
    EXPECT_EQ(wal_truncate_prefix(w, 150, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_first_index(w), 150); /* what it still reads back */
    after = segments(dir, segs, 64);
    EXPECT_TRUE(after < before);
    first = strtoull(strrchr(segs[0], '/') + 1, NULL, 10);
    EXPECT_TRUE(first > 1 && first <= 150);
    EXPECT_EQ(append_range(w, 301, 310, 0, 10), 0);
    EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_OK);
    wal_close(w);

    /* The kept segment still holds the entries below 150. */
    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_TRUE(entries_ok(&got, first, 310, UINT64_MAX, 0));
    EXPECT_EQ(wal_first_index(w), first);
    wal_entries_free(&got);

    /* Past the end: everything but the active segment goes. */
    EXPECT_EQ(wal_truncate_prefix(w, 1000, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(segments(dir, segs, 64), 1);
    EXPECT_EQ(wal_last_index(w), 310);
    EXPECT_EQ(wal_first_index(w), 311);
    EXPECT_EQ(append_range(w, 311, 312, 0, 2), 0);
    EXPECT_EQ(wal_first_index(w), 311);
    wal_close(w);
}

TEST(wal_reset_starts_over)
{
    const char *dir = dir_with(200, 4096);
    char segs[64][1024], err[512];
    struct wal_entries got;
    struct wal *w;

    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(wal_reset(w, 0, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_EQ(append_range(w, 201, 205, 0, 5), 0); /* unsynced, dropped */
    EXPECT_EQ(wal_reset(w, 1000, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_first_index(w), 1000);
    EXPECT_EQ(wal_last_index(w), 999);
    EXPECT_EQ(segments(dir, segs, 64), 1);
    EXPECT_EQ(append_range(w, 1000, 1010, 0, 3), 0);
    EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_OK);
    wal_close(w);
    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_TRUE(entries_ok(&got, 1000, 1010, UINT64_MAX, 0));
    wal_entries_free(&got);
    wal_close(w);
}

/* Recovery fsyncs what it read: after a process crash it may exist in the
 * page cache only. */
TEST(wal_open_makes_recovered_entries_durable)
{
    const char *dir = dir_with(10, 0);
    struct wal_entries got;
    struct wal *w;
    char err[512];

    sio_fault_clear();
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(sio_calls(SIO_FSYNC), 2);
    EXPECT_EQ(wal_durable_index(w), 10);
    wal_entries_free(&got);
    wal_close(w);

    sio_fault_set(SIO_FSYNC, 1, 1, EIO);
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_ERR_IO);
    EXPECT_TRUE(w == NULL);
    EXPECT_EQ(got.n, 0);
    sio_fault_clear();
}

/* A failed write is reported, never acknowledged, fails the log; what was
 * synced before survives a reopen. */
TEST(wal_failed_write_is_not_acknowledged)
{
    const char *dir = dir_with(10, 0);
    struct wal_entries got;
    struct wal *w;
    uint64_t durable = 0;
    char err[512];

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(append_range(w, 11, 30, 0, 4), 0);
    sio_fault_set(SIO_WRITE, 1, 1, ENOSPC);
    EXPECT_EQ(wal_sync(w, &durable, err, sizeof(err)), WAL_ERR_IO);
    EXPECT_EQ(durable, 10);
    EXPECT_EQ(wal_durable_index(w), 10);
    EXPECT_TRUE(strstr(err, strerror(ENOSPC)) != NULL);
    EXPECT_TRUE(strstr(err, "00000000000000000001.seg") != NULL);
    sio_fault_clear();

    /* The log stays failed even though the disk works again. */
    EXPECT_EQ(wal_sync(w, &durable, err, sizeof(err)), WAL_ERR_IO);
    EXPECT_EQ(durable, 10);
    EXPECT_TRUE(strstr(err, "reopen to recover") != NULL);
    EXPECT_EQ(append_range(w, 31, 31, 0, 1), WAL_ERR_IO);
    EXPECT_EQ(wal_truncate_suffix(w, 5, err, sizeof(err)), WAL_ERR_IO);
    wal_close(w);

    /* Half the buffer reached the file: whole records in it may come back
     * (never acknowledged, harmless), the torn one is cut. */
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_TRUE(got.last_index >= 10 && got.last_index < 30);
    EXPECT_TRUE(entries_ok(&got, 1, got.last_index, UINT64_MAX, 0));
    wal_entries_free(&got);
    wal_close(w);
}

TEST(wal_failed_fdatasync_is_not_acknowledged)
{
    const char *dir = dir_with(10, 0);
    struct wal_entries got;
    struct wal *w;
    uint64_t durable = 0;
    char err[512];

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(append_range(w, 11, 20, 0, 10), 0);
    sio_fault_set(SIO_FSYNC, 1, 1, EIO);
    EXPECT_EQ(wal_sync(w, &durable, err, sizeof(err)), WAL_ERR_IO);
    EXPECT_EQ(durable, 10);
    EXPECT_TRUE(strstr(err, "fdatasync") != NULL);
    sio_fault_clear();
    EXPECT_EQ(wal_sync(w, &durable, err, sizeof(err)), WAL_ERR_IO);
    EXPECT_EQ(durable, 10);
    wal_close(w);
    EXPECT_TRUE(reopen_holds(dir, 20) || reopen_holds(dir, 10));
}

/* Rotation syncs the old segment and creates the next one durably; a
 * failure at any of those steps fails the append. */
TEST(wal_failure_during_rotation_is_reported)
{
    for (unsigned nth = 1; nth <= 3; nth++) {
        const char *dir = dir_with(5, 4096);
        struct wal_entries got;
        struct wal *w;
        char err[512];
        int rc = 0;

        EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
        wal_entries_free(&got);
        /* fsyncs of a rotation: old segment, new header, the dir. */
        sio_fault_set(SIO_FSYNC, nth, 1, EIO);
        for (uint64_t i = 6; i < 400 && rc == 0; i++) {
            rc = append_range(w, i, i, 0, 1);
        }
        EXPECT_EQ(rc, WAL_ERR_IO);
        EXPECT_EQ(sio_calls(SIO_FSYNC), nth);
        sio_fault_clear();
        wal_close(w);
        EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
        EXPECT_TRUE(got.last_index >= 5);
        EXPECT_TRUE(entries_ok(&got, 1, got.last_index, UINT64_MAX, 0));
        wal_entries_free(&got);
        wal_close(w);
    }
}

TEST(wal_failed_truncate_is_reported)
{
    const char *dir = dir_with(50, 0);
    struct wal_entries got;
    struct wal *w;
    char err[512];

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    sio_fault_set(SIO_FTRUNCATE, 1, 1, EIO);
    EXPECT_EQ(wal_truncate_suffix(w, 20, err, sizeof(err)), WAL_ERR_IO);
    EXPECT_TRUE(strstr(err, "truncate") != NULL);
    sio_fault_clear();
    wal_close(w);

    /* Either the old log or the cut one: a prefix of what was there. */
    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(got.last_index, 50);
    wal_entries_free(&got);
    wal_close(w);
}

/* The workload of wal_any_failure_keeps_durable_entries: appends across
 * rotations, a suffix cut with new terms, a prefix cut. Records in TERMS
 * the term each index was last appended with, and in *DURABLE the last
 * index a call reported durable. Stops at the first error; returns it. */
static int failure_workload(struct wal *w, uint64_t *terms, uint64_t *durable)
{
    char err[512];
    uint64_t d;
    int rc = 0;

    for (uint64_t i = 1; i <= 150 && rc == 0; i += 5) {
        rc = append_range(w, i, i + 4, 0, 5);
        for (uint64_t j = i; j < i + 5; j++) {
            terms[j] = term_of(j);
        }
        if (rc == 0 && i % 10 == 6) {
            rc = wal_sync(w, &d, err, sizeof(err));
            *durable = rc == 0 ? d : *durable;
        }
    }
    /* Entries the caller asks to drop are no longer promised, even if the
     * cut fails halfway (a prefix of the old log stays). */
    if (rc == 0) {
        *durable = *durable < 119 ? *durable : 119;
        rc = wal_truncate_suffix(w, 120, err, sizeof(err));
    }
    if (rc == 0) {
        rc = append_range(w, 120, 170, 9, 6);
        for (uint64_t j = 120; j <= 170; j++) {
            terms[j] = 9;
        }
    }
    if (rc == 0) {
        rc = wal_truncate_prefix(w, 60, err, sizeof(err));
    }
    if (rc == 0 && (rc = wal_sync(w, &d, err, sizeof(err))) == 0) {
        *durable = d;
    }
    return rc;
}

/* Fail the Nth write, fsync, ftruncate or rename of a workload, for every
 * N until the workload gets through: the failure is reported, and after a
 * reopen every entry reported durable is there with the term it was
 * reported with. */
TEST(wal_any_failure_keeps_durable_entries)
{
    static const enum sio_op ops[] = {SIO_WRITE, SIO_FSYNC, SIO_FTRUNCATE,
                                      SIO_RENAME};

    for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        int finished = 0;

        for (unsigned nth = 1; nth <= 400 && !finished; nth++) {
            const char *dir = fresh_dir();
            uint64_t terms[200] = {0}, durable = 0;
            struct wal_entries got;
            struct wal *w;
            char err[512];
            int rc;

            EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), 0);
            sio_fault_set(ops[k], nth, 1, EIO);
            rc = failure_workload(w, terms, &durable);
            finished = sio_calls(ops[k]) < nth;
            EXPECT_TRUE(finished ? rc == 0 : rc != 0);
            sio_fault_clear();
            wal_close(w);

            EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), 0);
            if (got.last_index < durable) {
                HARNESS_FAIL("op %zu nth %u: last %llu < durable %llu", k, nth,
                             (unsigned long long)got.last_index,
                             (unsigned long long)durable);
                return;
            }
            for (uint64_t i = got.first_index; i <= durable; i++) {
                const struct raft_entry *e = &got.entries[i - got.first_index];

                if (e->term != terms[i] || e->len != payload_len(i)) {
                    HARNESS_FAIL("op %zu nth %u: entry %llu has term %llu, "
                                 "durable with %llu",
                                 k, nth, (unsigned long long)i,
                                 (unsigned long long)e->term,
                                 (unsigned long long)terms[i]);
                    return;
                }
            }
            wal_entries_free(&got);
            wal_close(w);
        }
        EXPECT_TRUE(finished);
    }
}

/* ---- reading back ------------------------------------------------------ */

/* Read FIRST..LAST back from W and check them against make_entries() (terms
 * from term_of()); 1 when they match. */
static int read_back_ok(struct wal *w, uint64_t first, uint64_t last)
{
    size_t n = (size_t)(last - first + 1);
    struct raft_entry *out = calloc(n, sizeof(*out));
    struct wal_entries got = {.entries = out, .n = n};
    uint8_t *buf;
    char err[512];
    int rc = wal_read(w, first, n, out, &buf, err, sizeof(err));
    int ok = rc == WAL_OK;

    if (!ok) {
        fprintf(stderr, "read %llu..%llu: %d %s\n", (unsigned long long)first,
                (unsigned long long)last, rc, err);
    }
    got.first_index = first;
    got.last_index = last;
    ok = ok && entries_ok(&got, first, last, UINT64_MAX, 0);
    free(buf);
    free(out);
    return ok;
}

/* The code wal_read() gives for FIRST..LAST, with its message in ERR. */
static int read_back_rc(struct wal *w, uint64_t first, uint64_t last, char *err,
                        size_t errlen)
{
    size_t n = (size_t)(last - first + 1);
    struct raft_entry *out = calloc(n, sizeof(*out));
    uint8_t *buf = (uint8_t *)out; /* must come back NULL on error */
    int rc = wal_read(w, first, n, out, &buf, err, errlen);

    if (rc != WAL_OK && buf != NULL) {
        fprintf(stderr, "wal_read failed but left a buffer\n");
        rc = 99;
    }
    free(rc == WAL_OK ? buf : NULL);
    free(out);
    return rc;
}

TEST(wal_read_back_by_index_across_segments)
{
    const char *dir = dir_with(300, 4096);
    char segs[64][1024], err[512];
    struct wal_entries got;
    struct wal *w;

    EXPECT_TRUE(segments(dir, segs, 64) >= 4);
    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    for (uint64_t i = 1; i <= 300; i++) {
        EXPECT_TRUE(read_back_ok(w, i, i));
    }
    EXPECT_TRUE(read_back_ok(w, 1, 300));
    for (uint64_t first = 1; first <= 300; first += 37) {
        EXPECT_TRUE(
            read_back_ok(w, first, first + 60 > 300 ? 300 : first + 60));
    }
    /* Appended, not synced: in the write buffer, behind records on disk. */
    EXPECT_EQ(append_range(w, 301, 320, 0, 4), 0);
    EXPECT_TRUE(read_back_ok(w, 290, 320));
    EXPECT_TRUE(read_back_ok(w, 320, 320));
    EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_OK);
    EXPECT_TRUE(read_back_ok(w, 1, 320));
    EXPECT_EQ(read_back_rc(w, 1, 0, err, sizeof(err)), WAL_OK); /* none */
    wal_close(w);
}

TEST(wal_read_back_from_one_segment_and_its_buffer)
{
    const char *dir = dir_with(100, 0);
    char err[512];
    struct wal_entries got;
    struct wal *w;

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(append_range(w, 101, 150, 0, 7), 0);
    EXPECT_TRUE(read_back_ok(w, 90, 150)); /* one run: file, then buffer */
    EXPECT_TRUE(read_back_ok(w, 101, 150));
    EXPECT_TRUE(read_back_ok(w, 1, 100));
    wal_close(w);
}

TEST(wal_read_back_after_truncation_is_a_range_error)
{
    const char *dir = dir_with(300, 4096);
    char err[512];
    struct wal_entries got;
    struct wal *w;
    uint64_t first;

    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(read_back_rc(w, 300, 301, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_TRUE(strstr(err, "the log holds 1-300") != NULL);

    EXPECT_EQ(wal_truncate_prefix(w, 150, err, sizeof(err)), WAL_OK);
    first = wal_first_index(w);
    EXPECT_TRUE(first > 1 && first <= 150);
    EXPECT_EQ(read_back_rc(w, 1, 1, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_EQ(read_back_rc(w, first - 1, first + 5, err, sizeof(err)),
              WAL_ERR_RANGE);
    EXPECT_TRUE(read_back_ok(w, first, 300));

    EXPECT_EQ(wal_truncate_suffix(w, 250, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(read_back_rc(w, 249, 250, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_TRUE(read_back_ok(w, first, 249));
    EXPECT_EQ(append_range(w, 250, 260, 7, 3), 0); /* a new term */
    EXPECT_EQ(read_back_rc(w, 250, 260, err, sizeof(err)), WAL_OK);

    EXPECT_EQ(wal_reset(w, 1000, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(read_back_rc(w, 299, 299, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_EQ(read_back_rc(w, 1000, 1000, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_EQ(append_range(w, 1000, 1003, 0, 4), 0);
    EXPECT_TRUE(read_back_ok(w, 1000, 1003));
    wal_close(w);
}

/* A record damaged after recovery read it (bit rot, a bad copy) is
 * reported with its file and offset; its neighbours still read. */
TEST(wal_read_back_of_a_corrupt_record_is_an_error)
{
    const char *dir = dir_with(20, 0);
    size_t off = record_offset(1, 10), size;
    char segs[2][1024], err[512], want[1200];
    struct wal_entries got;
    struct wal *w;
    uint8_t *orig;

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(segments(dir, segs, 2), 1);
    orig = read_all(segs[0], &size);
    snprintf(want, sizeof(want), "%s: corrupt record at offset %zu", segs[0],
             off);
    for (size_t i = off; i < record_offset(1, 11); i += 3) {
        orig[i] ^= 0x10;
        write_all(segs[0], orig, size);
        orig[i] ^= 0x10;
        EXPECT_EQ(read_back_rc(w, 5, 15, err, sizeof(err)), WAL_ERR_CORRUPT);
        if (strstr(err, want) == NULL) {
            HARNESS_FAIL("byte %zu: \"%s\" lacks \"%s\"", i, err, want);
            break;
        }
        EXPECT_TRUE(read_back_ok(w, 1, 9));
        EXPECT_TRUE(read_back_ok(w, 11, 20));
    }
    write_all(segs[0], orig, size);
    EXPECT_TRUE(read_back_ok(w, 1, 20));
    free(orig);
    wal_close(w);
}

/* The last record of an older segment is found through its own header: a
 * damaged length there, or a segment cut short behind the log's back, is
 * corruption; a segment gone is an I/O error. */
TEST(wal_read_back_of_a_damaged_older_segment_is_an_error)
{
    const char *dir = dir_with(200, 4096);
    char segs[64][1024], err[512];
    struct wal_entries got;
    struct wal *w;
    uint64_t second, last_of_first;
    size_t size;
    uint8_t *orig;

    EXPECT_TRUE(segments(dir, segs, 64) >= 3);
    second = strtoull(strrchr(segs[1], '/') + 1, NULL, 10);
    last_of_first = second - 1;
    EXPECT_EQ(open_wal(dir, 4096, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    orig = read_all(segs[0], &size);

    /* Length field of the segment's last record: impossible. */
    orig[record_offset(1, last_of_first) + 3] = 0xff;
    write_all(segs[0], orig, size);
    EXPECT_EQ(read_back_rc(w, last_of_first, last_of_first, err, sizeof(err)),
              WAL_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "impossible length") != NULL);
    EXPECT_TRUE(read_back_ok(w, second, second + 3));
    orig[record_offset(1, last_of_first) + 3] = 0;

    /* Cut short. */
    write_all(segs[0], orig, size - 5);
    EXPECT_EQ(read_back_rc(w, 1, last_of_first, err, sizeof(err)),
              WAL_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "the file ends at") != NULL);

    /* Gone. */
    unlink(segs[0]);
    EXPECT_EQ(read_back_rc(w, 1, 2, err, sizeof(err)), WAL_ERR_IO);
    EXPECT_TRUE(strstr(err, segs[0]) != NULL);
    EXPECT_TRUE(read_back_ok(w, second, 200));
    write_all(segs[0], orig, size);
    EXPECT_TRUE(read_back_ok(w, 1, 200));
    free(orig);
    wal_close(w);
}

TEST(wal_read_back_from_a_failed_log_is_refused)
{
    const char *dir = dir_with(20, 0);
    char err[512];
    struct wal_entries got;
    struct wal *w;

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(append_range(w, 21, 22, 0, 2), 0);
    sio_fault_set(SIO_FSYNC, 1, 1, EIO);
    EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_ERR_IO);
    sio_fault_clear();
    EXPECT_EQ(read_back_rc(w, 1, 1, err, sizeof(err)), WAL_ERR_IO);
    EXPECT_TRUE(strstr(err, "failed earlier") != NULL);
    wal_close(w);
}

/* A prefix truncation keeps the segment that holds UP_TO, but forgets
 * where the records before UP_TO lie: they no longer read back and cannot
 * be truncated to; a reopen still finds them. */
TEST(wal_truncate_prefix_forgets_offsets_in_the_segment_it_keeps)
{
    const char *dir = dir_with(300, 0);
    char err[512];
    struct wal_entries got;
    struct wal *w;

    EXPECT_EQ(open_wal(dir, 0, &w, &got, err, sizeof(err)), WAL_OK);
    wal_entries_free(&got);
    EXPECT_EQ(wal_truncate_prefix(w, 200, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_first_index(w), 200);
    EXPECT_EQ(wal_last_index(w), 300);
    EXPECT_EQ(read_back_rc(w, 199, 199, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_TRUE(read_back_ok(w, 200, 300));
    EXPECT_EQ(wal_truncate_prefix(w, 100, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_first_index(w), 200); /* never back */
    EXPECT_EQ(wal_truncate_suffix(w, 199, err, sizeof(err)), WAL_ERR_RANGE);
    EXPECT_EQ(wal_truncate_suffix(w, 250, err, sizeof(err)), WAL_OK);
    EXPECT_TRUE(read_back_ok(w, 200, 249));
    EXPECT_EQ(wal_truncate_suffix(w, 200, err, sizeof(err)), WAL_OK);
    EXPECT_EQ(wal_first_index(w), 200);
    EXPECT_EQ(wal_last_index(w), 199);
    EXPECT_EQ(append_range(w, 200, 260, 0, 9), 0);
    EXPECT_TRUE(read_back_ok(w, 200, 260));
    EXPECT_EQ(wal_sync(w, NULL, err, sizeof(err)), WAL_OK);
    wal_close(w);
    EXPECT_TRUE(reopen_holds(dir, 260));
}

int main(void)
{
    snprintf(test_root, sizeof(test_root), "/tmp/varde-test-wal-XXXXXX");
    if (mkdtemp(test_root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    /* Failures are injected on purpose: keep their log lines out. */
    log_set_level((enum log_level)(LOG_ERROR + 1));
    RUN(wal_fresh_dir_opens_empty);
    RUN(wal_missing_data_dir_is_an_error);
    RUN(wal_round_trip_across_rotation);
    RUN(wal_group_commit_is_one_fdatasync);
    RUN(wal_append_rejects_bad_batches);
    RUN(wal_large_entry_gets_own_segment);
    RUN(wal_torn_tail_is_cut_at_every_offset);
    RUN(wal_bad_checksum_at_tail_is_cut);
    RUN(wal_bit_flip_in_the_middle_refuses);
    RUN(wal_damage_in_earlier_segment_refuses);
    RUN(wal_unwritten_sector_before_later_records_is_torn);
    RUN(wal_out_of_sequence_record_refuses);
    RUN(wal_header_only_segment_is_an_empty_log);
    RUN(wal_runt_last_segment_is_removed);
    RUN(wal_missing_or_misnamed_segment_refuses);
    RUN(wal_unfinished_segment_creation_is_removed);
    RUN(wal_truncate_suffix_then_reopen);
    RUN(wal_truncate_suffix_edges);
    RUN(wal_truncate_prefix_drops_whole_segments);
    RUN(wal_reset_starts_over);
    RUN(wal_open_makes_recovered_entries_durable);
    RUN(wal_failed_write_is_not_acknowledged);
    RUN(wal_failed_fdatasync_is_not_acknowledged);
    RUN(wal_failure_during_rotation_is_reported);
    RUN(wal_failed_truncate_is_reported);
    RUN(wal_any_failure_keeps_durable_entries);
    RUN(wal_read_back_by_index_across_segments);
    RUN(wal_read_back_from_one_segment_and_its_buffer);
    RUN(wal_read_back_after_truncation_is_a_range_error);
    RUN(wal_read_back_of_a_corrupt_record_is_an_error);
    RUN(wal_read_back_of_a_damaged_older_segment_is_an_error);
    RUN(wal_read_back_from_a_failed_log_is_refused);
    RUN(wal_truncate_prefix_forgets_offsets_in_the_segment_it_keeps);
    sio_fault_clear();
    remove_tree(test_root);
    DONE();
}

/*
 * fsync_probe: what one durable small-file replace costs on this disk now.
 *
 *   fsync_probe DIR K
 *
 * K times: write 64 bytes to DIR/.probe.tmp, fsync it, rename it over
 * DIR/.probe, fsync DIR (the pattern every runtime here uses for its state
 * files). Prints `durable_replace_ms: X` (mean wall time). The disk is
 * shared with other tenants, so run.sh records this next to every run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fsync_probe DIR K\n");
        return 2;
    }
    char tmp[4096], dst[4096], data[64];
    snprintf(tmp, sizeof tmp, "%s/.probe.tmp", argv[1]);
    snprintf(dst, sizeof dst, "%s/.probe", argv[1]);
    memset(data, 'x', sizeof data);
    long k = strtol(argv[2], NULL, 10);
    int dir = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (dir < 0) { perror(argv[1]); return 1; }
    double start = now();
    for (long i = 0; i < k; i++) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, data, sizeof data) != sizeof data || fsync(fd) != 0) {
            perror(tmp);
            return 1;
        }
        close(fd);
        if (rename(tmp, dst) != 0 || fsync(dir) != 0) { perror(dst); return 1; }
    }
    printf("durable_replace_ms: %.3f\n", (now() - start) * 1000.0 / k);
    unlink(dst);
    close(dir);
    return 0;
}

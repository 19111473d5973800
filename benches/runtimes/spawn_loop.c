/*
 * spawn_loop: times a program by starting it K times, one after another.
 *
 *   spawn_loop K STDIN_FILE PROGRAM [ARGS...]
 *
 * Each run gets STDIN_FILE (or /dev/null when it is `-`) on stdin and
 * /dev/null as stdout and stderr. Prints `per_call_ms: X` (mean wall time
 * from posix_spawn to the reaped exit). This is what a runtime pays per stage
 * for the fake agent itself, so run.sh subtracts it from wall time. Also
 * prints `cpu_per_call_ms: Y` (user + system time of the children).
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: spawn_loop K STDIN_FILE PROGRAM [ARGS...]\n");
        return 2;
    }
    long k = strtol(argv[1], NULL, 10);
    const char *input = strcmp(argv[2], "-") == 0 ? "/dev/null" : argv[2];
    double start = now();
    for (long i = 0; i < k; i++) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, input, O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        if (posix_spawnp(&pid, argv[3], &fa, NULL, argv + 3, environ) != 0) {
            perror(argv[3]);
            return 1;
        }
        posix_spawn_file_actions_destroy(&fa);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "spawn_loop: run %ld failed (status %d)\n", i, status);
            return 1;
        }
    }
    double wall = now() - start;
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                 ru.ru_stime.tv_usec / 1e6;
    printf("per_call_ms: %.3f\ncpu_per_call_ms: %.3f\n", wall * 1000.0 / k, cpu * 1000.0 / k);
    return 0;
}

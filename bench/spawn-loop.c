/* Reference side of bench/sandbox.ts: runs a command N times with posix_spawn + waitpid from a
 * small process and prints each run's wall time in microseconds, one per line. Used for the bare
 * baseline and for bubblewrap (bwrap is just the command here). PAUSE_US > 0 sleeps that long,
 * untimed, before each run: the spacing of the sandbox's prewarmed runs, whose reference must pay
 * the same cold caches and idle-state wake-ups a pause brings. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: spawn-loop N PAUSE_US command [args...]\n");
        return 2;
    }
    int n = atoi(argv[1]);
    long pause_us = atol(argv[2]);
    for (int i = 0; i < n; i++) {
        if (pause_us > 0) {
            struct timespec pause = {pause_us / 1000000, (pause_us % 1000000) * 1000};
            nanosleep(&pause, NULL);
        }
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pid_t pid;
        if (posix_spawn(&pid, argv[3], NULL, NULL, argv + 3, environ) != 0) return 1;
        int status;
        waitpid(pid, &status, 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%ld\n", (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000);
    }
    return 0;
}

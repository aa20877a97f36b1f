/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rharness.h - a real redis-server for tests: started by the test with its
 * own configuration in a temporary directory (loopback port picked free, a
 * unix socket, no persistence, a password), stopped by PID (SIGKILL, or
 * SIGSTOP/SIGCONT to freeze it), and redis-cli to write what a coturn
 * deployment would have written. The child dies with the test
 * (PR_SET_PDEATHSIG), so a test killed by its timeout leaves nothing behind.
 */
#ifndef TP_RHARNESS_H
#define TP_RHARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rh_redis {
	char dir[256];            /* the temporary directory */
	char conf[300], sock[300], log[300];
	char password[64];
	uint16_t port;
	pid_t pid;                /* 0: not running */
};

/* Both redis-server and redis-cli are installed. */
bool rh_available(void);
/* Make the directory and the configuration (keyspace notifications on). */
int rh_init(struct rh_redis *r, const char *password);
/* Start it (again, on the same port and socket) and wait until it answers
 * PING (5 s at most). 0 or -1. */
int rh_start(struct rh_redis *r);
/* SIGKILL and reap. */
void rh_kill(struct rh_redis *r);
/* SIGSTOP / SIGCONT. */
void rh_freeze(struct rh_redis *r, bool frozen);
/* Stop it and remove the directory. */
void rh_fini(struct rh_redis *r);
/* redis-cli -n db ARGS... (NULL-terminated): its exit status; its output
 * (trimmed) in out when out is not NULL. */
int rh_cli(const struct rh_redis *r, unsigned db, char *out, size_t cap, ...);

uint64_t rh_now_ms(void);

#endif

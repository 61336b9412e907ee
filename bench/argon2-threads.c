/*
 * argon2-threads: the speed-up two bare threads get from libsodium's
 * Argon2id on this machine, the yardstick for basic_cuttle_auth's worker
 * pool. Built and run by bench/run; not installed.
 *
 *   argon2-threads K [1|2]
 *
 * Hashes one password with crypto_pwhash_str at OPSLIMIT_INTERACTIVE /
 * MEMLIMIT_INTERACTIVE (cuttle's default limits), then times K calls of
 * crypto_pwhash_str_verify on one thread, then the same K calls split
 * over two threads (K/2 each, started together). Prints one line:
 *   k=K rate1=VERIFIES/S rate2=VERIFIES/S speedup=RATE2/RATE1 secs1=S secs2=S
 * With a second argument only that one of the two is timed (the other
 * rate is printed as 0), so a caller can interleave them with other runs.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char hash[crypto_pwhash_STRBYTES];
static const char password[] = "correct horse battery staple";

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
verify(void *arg)
{
	long n = *(long *)arg;

	for (long i = 0; i < n; i++) {
		if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) {
			fprintf(stderr, "argon2-threads: verification failed\n");
			exit(1);
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	long k = argc > 1 ? atol(argv[1]) : 40, half[2];
	int only = argc > 2 ? atoi(argv[2]) : 0;
	pthread_t th[2];
	double t0, one = 0, two = 0;

	if (k < 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: argon2-threads K (K >= 2)\n");
		return 2;
	}
	if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
		crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		fprintf(stderr, "argon2-threads: out of memory\n");
		return 1;
	}
	if (only != 2) {
		t0 = now();
		verify(&k);
		one = now() - t0;
	}
	if (only == 1)
		goto out;

	half[0] = k / 2;
	half[1] = k - k / 2;
	t0 = now();
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, verify, &half[i]) != 0) {
			fprintf(stderr, "argon2-threads: pthread_create failed\n");
			return 1;
		}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	two = now() - t0;
out:
	printf("k=%ld rate1=%.3f rate2=%.3f speedup=%.3f secs1=%.6f secs2=%.6f\n", k,
	    one > 0 ? k / one : 0, two > 0 ? k / two : 0, one > 0 && two > 0 ? one / two : 0, one, two);
	return 0;
}

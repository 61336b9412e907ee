/*
 * dgram-sink: a stand-in syslog daemon for the tests. Binds a Unix
 * datagram socket at PATH (mode 0666) and either prints every datagram
 * as a line ("read") or never reads at all ("stuck", to fill the queue).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	char buf[4096];
	int s;

	if (argc != 3 || (strcmp(argv[1], "read") != 0 && strcmp(argv[1], "stuck") != 0)) {
		fprintf(stderr, "usage: dgram-sink read|stuck PATH\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[2]);
	unlink(argv[2]);
	if ((s = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0 ||
	    bind(s, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		perror("dgram-sink");
		return 1;
	}
	chmod(argv[2], 0666);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "stuck") == 0)
		for (;;)
			pause();
	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue;
		buf[n] = '\0';
		printf("%s\n", buf);
	}
}

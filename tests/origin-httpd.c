/*
 * A tiny origin server for the demo and the integration tests: answers
 * every request on 127.0.0.1:PORT with 200 and a short body, so a request
 * through Squid has somewhere to go on a machine without a network.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 13\r\nConnection: close\r\n\r\nhello, proxy\n";
	struct sockaddr_in sin;
	int s, one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: origin-httpd PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(s, 64) != 0) {
		perror("origin-httpd");
		return 1;
	}
	for (;;) {
		char buf[8192];
		size_t have = 0;
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		/* Read the request head, then answer and close. */
		while (have < sizeof(buf) - 1) {
			ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);
			if (n <= 0)
				break;
			have += (size_t)n;
			buf[have] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL)
				break;
		}
		if (write(c, reply, sizeof(reply) - 1) < 0)
			perror("origin-httpd: write");
		close(c);
	}
}

/* weft control SOCKET COMMAND...: one command to a running sensor's
 * control socket; prints the reply, exits non-zero on an error reply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"
#include "wire/command.h"

/* Reads one reply line (a profile can be tens of KiB, in several reads);
 * returns its length, or -1 when the sensor closed or failed first. */
static ssize_t read_reply(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf + len - n, '\n', (size_t)n))
			break;
	}
	buf[len] = '\0';
	return len && buf[len - 1] == '\n' ? (ssize_t)len : -1;
}

int cmd_control(int argc, char **argv)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char line[COMMAND_LINE_MAX] = "", *reply;
	int fd, ret;

	if (argc < 3 || !strcmp(argv[1], "--help")) {
		fprintf(argc < 3 ? stderr : stdout,
			"Usage: weft control SOCKET COMMAND...\n\n"
			"Sends one command to a sensor started with --control SOCKET:\n"
			"  messages on|off, select pid|comm|port|cgroup|netns VALUE, select clear, "
			"status,\n"
			"  profile find NAME[,NAME...], profile start ID NAME[,NAME...],\n"
			"  profile stop ID (replies \"ok\" and the profile as JSON),\n"
			"  profile abort ID, profile list, profile jvm NAME COMMAND,\n"
			"  trace NAME on [FILTER], trace NAME off, trace list (with --server)\n");
		return argc < 3 ? 2 : 0;
	}
	if (strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "weft control: socket path too long\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		strncat(line, argv[i], sizeof(line) - strlen(line) - 2);
		strncat(line, i + 1 < argc ? " " : "\n", sizeof(line) - strlen(line) - 1);
	}
	strcpy(addr.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "weft control: cannot reach %s: %s\n", argv[1], strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	reply = malloc(COMMAND_REPLY_MAX);
	if (!reply || write(fd, line, strlen(line)) < 0 ||
	    read_reply(fd, reply, COMMAND_REPLY_MAX) < 0) {
		fprintf(stderr, "weft control: no reply from %s\n", argv[1]);
		free(reply);
		close(fd);
		return 1;
	}
	close(fd);
	fputs(reply, stdout);
	ret = strncmp(reply, "ok", 2) ? 1 : 0;
	free(reply);
	return ret;
}

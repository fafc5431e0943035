/* weft control SOCKET COMMAND...: one command to a running sensor's
 * control socket; prints the reply, exits non-zero on an error reply. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"

int cmd_control(int argc, char **argv)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char line[512] = "", reply[512];
	ssize_t n;
	int fd;

	if (argc < 3 || !strcmp(argv[1], "--help")) {
		fprintf(argc < 3 ? stderr : stdout,
			"Usage: weft control SOCKET COMMAND...\n\n"
			"Sends one command to a sensor started with --control SOCKET:\n"
			"  messages on|off, select pid|comm|port|cgroup|netns VALUE, select clear, "
			"status\n");
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
	if (write(fd, line, strlen(line)) < 0 || (n = read(fd, reply, sizeof(reply) - 1)) <= 0) {
		fprintf(stderr, "weft control: no reply from %s\n", argv[1]);
		close(fd);
		return 1;
	}
	close(fd);
	reply[n] = '\0';
	fputs(reply, stdout);
	return strncmp(reply, "ok", 2) ? 1 : 0;
}

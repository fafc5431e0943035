#include "common/stop.h"

volatile sig_atomic_t weft_stop_requested;

static void on_signal(int sig)
{
	weft_stop_requested = 1;
	signal(sig, SIG_DFL); /* a second signal ends the process */
}

void stop_on_signals(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

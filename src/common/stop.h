/* Ending a command on SIGINT or SIGTERM: the first signal asks the command
 * to finish what it is doing (flush, acknowledge, write its report), a
 * second one ends the process at once. */
#ifndef WEFT_STOP_H
#define WEFT_STOP_H

#include <signal.h>

/* Nonzero once a stop was asked for. */
extern volatile sig_atomic_t weft_stop_requested;

/* Installs the handlers for SIGINT and SIGTERM. */
void stop_on_signals(void);

#endif

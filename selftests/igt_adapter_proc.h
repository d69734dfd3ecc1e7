/* SPDX-License-Identifier: GPL-2.0 */
/*
 * igt_adapter's process control (igt_adapter_proc.c): how it stops, and
 * how it leaves no process of a suite behind.
 */
#ifndef IGT_ADAPTER_PROC_H
#define IGT_ADAPTER_PROC_H

#include <poll.h>

void adapter_catch_stop_signals(void);
int adapter_stop_signal(void);
int adapter_ppoll(struct pollfd *pfd, nfds_t n);
void adapter_unblock_in_child(void);
void adapter_write_failed(void);
void adapter_die_of_stop_signal(void);
void adapter_reap_orphans(void);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * igt_adapter's process control.
 *
 * On a per-test timeout igt_runner sends SIGQUIT to the adapter and to its
 * process group, and SIGKILL some seconds later; a lab timeout kills
 * igt_runner itself, which the adapter learns by PR_SET_PDEATHSIG
 * (SIGTERM). The kselftest harness runs each test in a process group of
 * its own (setpgrp() in kselftest_harness.h), which neither signal
 * reaches, and the suites fork helpers of their own. So the adapter is a
 * child subreaper: on a stop signal it kills the suite, then kills and
 * reaps whatever the suite left to it, then dies of the signal.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "igt_adapter_proc.h"

/* The signal igt_runner (or a user) stopped us with, 0 until then. */
static atomic_int stop_signal;
/* Those signals; the mask with them unblocked. */
static sigset_t stop_signals, unblocked;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/**
 * adapter_catch_stop_signals() - catch SIGQUIT, SIGTERM, SIGINT and SIGHUP
 *
 * They stay blocked except inside adapter_ppoll(), so none can arrive
 * between a look at adapter_stop_signal() and a wait.
 */
void adapter_catch_stop_signals(void)
{
	static const int sigs[] = { SIGQUIT, SIGTERM, SIGINT, SIGHUP, 0 };
	struct sigaction sa = { .sa_handler = on_stop };
	size_t i;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&stop_signals);
	for (i = 0; sigs[i]; i++) {
		sigaddset(&stop_signals, sigs[i]);
		sigaction(sigs[i], &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, &stop_signals, &unblocked);
	/* A failed write to igt_runner is a stop too (adapter_write_failed()). */
	signal(SIGPIPE, SIG_IGN);
}

/**
 * adapter_stop_signal() - the stop signal received
 *
 * ppoll() delivers a pending signal only when no descriptor is ready, and
 * igt_runner's SIGQUIT also ends the suite, whose pidfd is then ready: a
 * stop signal still pending is taken here.
 *
 * Return: the signal's number, 0 while none came.
 */
int adapter_stop_signal(void)
{
	static const struct timespec zero;
	int sig;

	if (!stop_signal) {
		sig = sigtimedwait(&stop_signals, NULL, &zero);
		if (sig > 0)
			stop_signal = sig;
	}
	return stop_signal;
}

/**
 * adapter_ppoll() - poll(2) PFD, with the stop signals unblocked meanwhile
 * @pfd: the descriptors
 * @n: how many
 *
 * Return: as ppoll(2): -1 with errno EINTR when a stop signal came.
 */
int adapter_ppoll(struct pollfd *pfd, nfds_t n)
{
	return ppoll(pfd, n, NULL, &unblocked);
}

/**
 * adapter_unblock_in_child() - give a forked suite the caller's mask back
 */
void adapter_unblock_in_child(void)
{
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &unblocked, NULL);
}

/**
 * adapter_write_failed() - stop as on SIGPIPE: igt_runner is gone
 */
void adapter_write_failed(void)
{
	if (!stop_signal)
		stop_signal = SIGPIPE;
}

/**
 * adapter_die_of_stop_signal() - die of the stop signal received
 *
 * As igt_runner expects of a test it stopped. Call it once the suite's
 * processes are gone (adapter_reap_orphans()).
 */
void adapter_die_of_stop_signal(void)
{
	int sig = stop_signal;

	fflush(stdout);
	signal(sig, SIG_DFL);
	sigaddset(&stop_signals, SIGPIPE);
	sigprocmask(SIG_UNBLOCK, &stop_signals, NULL);
	raise(sig);
	_exit(98);
}

/* Kill every child of ours that /proc lists; true if there was one. */
static bool kill_children(void)
{
	pid_t self = getpid();
	bool found = false;
	struct dirent *e;
	DIR *proc;

	proc = opendir("/proc");
	if (!proc)
		return false;
	while ((e = readdir(proc))) {
		char path[64], buf[512], *p;
		pid_t pid = atoi(e->d_name);
		long ppid;
		size_t n;
		FILE *f;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* "pid (comm) state ppid ...": comm may hold spaces. */
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid != self)
			continue;
		kill(pid, SIGKILL);
		found = true;
	}
	closedir(proc);
	return found;
}

/**
 * adapter_reap_orphans() - kill and reap every child, until none is left
 *
 * Call it after the suite's own process has been reaped: what is left is
 * what the suite orphaned (the adapter is a child subreaper). A killed
 * child's own children become ours and are found by the next scan.
 */
void adapter_reap_orphans(void)
{
	bool found;

	do {
		/* No child at all (the usual case): nothing to look for. */
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			break;
		found = kill_children();
		/* One death, then whatever else is done. */
		if (found)
			waitpid(-1, NULL, 0);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	} while (found);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf - command-line front end of p2pbuf_exporter and p2pbuf_importer.
 *
 * A dma-buf file descriptor, and an import of it, live only as long as the
 * process that holds them. So besides single commands, p2pbuf runs several
 * commands in one process - separated by "--" on the command line, or read
 * from a script file or standard input - and names what they create
 * ("buf1", "imp1", or a name given with "as NAME") so that later commands
 * can refer to it.
 *
 * Exit status: 0 when every command succeeded, 1 when one failed (a
 * sequence stops at the first failure), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2pbuf.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

/* ------------------------------------------------------------------ */
/* Sequencing                                                         */

static int run_cmd(int argc, char **argv);

/* expect ERRNO CMD ARGS...: succeeds only if CMD fails with ERRNO. */
static int cmd_expect(int argc, char **argv)
{
	int err, ret;

	if (argc < 3)
		return usage_of(argv[0]);
	err = errno_parse(argv[1]);
	if (!err)
		return fail(-EINVAL, "errno '%s'", argv[1]);
	quiet_errors++;
	ret = run_cmd(argc - 2, argv + 2);
	quiet_errors--;
	if (ret == CMD_USAGE)
		return ret;
	if (ret == -err) {
		printf("  %s failed with %s (%s), as expected\n", argv[2],
		       errno_name(err), strerror(err));
		return 0;
	}
	if (!ret)
		return fail(-EBADMSG, "%s succeeded, expected %s", argv[2],
			    errno_name(err));
	return fail(ret, "%s: expected %s, got", argv[2], errno_name(err));
}

static int cmd_echo(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		printf("%s%s", i > 1 ? " " : "", argv[i]);
	printf("\n");
	return 0;
}

static int cmd_help(int argc, char **argv);
static int run_script(FILE *f, bool interactive);

static int cmd_script(int argc, char **argv)
{
	FILE *f = stdin;
	int ret;

	if (argc > 2)
		return usage_of(argv[0]);
	if (argc == 2 && strcmp(argv[1], "-")) {
		f = fopen(argv[1], "re");
		if (!f)
			return fail(-errno, "open %s", argv[1]);
	}
	ret = run_script(f, isatty(fileno(f)));
	if (f != stdin)
		fclose(f);
	return ret;
}

static const struct cmd cmds[] = {
	{ "list", cmd_list, "",
	  "devices bound to both drivers, with BARs and DMA engine" },
	{ "info", cmd_info, "DEV", "INFO of one exporter or importer device" },
	{ "open", cmd_open, "BDF [as NAME]",
	  "open a device file (commands also open one given its BDF)" },
	{ "close", cmd_close, "NAME",
	  "close a device file or a dma-buf; closing an exporter file revokes its dma-bufs" },
	{ "export", cmd_export, "EXP BAR OFF:LEN... [as NAME]",
	  "export BAR ranges as one dma-buf (sizes take K, M, G)" },
	{ "query", cmd_query, "BUF",
	  "exporter's view: state, attachments, map type" },
	{ "revoke", cmd_revoke, "BUF | revoke all EXP",
	  "revoke: returns when no importer maps the buffer" },
	{ "restore", cmd_revoke, "BUF | restore all EXP",
	  "make revoked buffers mappable again" },
	{ "import", cmd_import, "IMP BUF [pinned] [as NAME]",
	  "attach a dma-buf to the importer device" },
	{ "map", cmd_map, "IMPORT [expect MAPTYPE]",
	  "map for the device; show map type and DMA segments" },
	{ "unmap", cmd_unmap, "IMPORT", "unmap" },
	{ "release", cmd_release, "IMPORT", "unmap and detach" },
	{ "status", cmd_status, "IMPORT",
	  "importer's view: state, map type, invalidations" },
	{ "dma", cmd_dma, "IMPORT write OFF TEXT | IMPORT read OFF LEN [expect TEXT]",
	  "move data through the mapping with the device's DMA engine" },
	{ "watch", cmd_watch, "IMP|IMPORT [TIMEOUT_MS]",
	  "wait (default 5000 ms) for invalidation events and print them" },
	{ "peek", cmd_peek, "BDF BAR OFF LEN [expect TEXT]",
	  "read a BAR with the CPU through sysfs resourceN" },
	{ "expect", cmd_expect, "ERRNO COMMAND...",
	  "run COMMAND; succeed only if it fails with ERRNO" },
	{ "echo", cmd_echo, "TEXT...", "print TEXT" },
	{ "script", cmd_script, "[FILE|-]",
	  "run commands from FILE or standard input (interactive on a terminal)" },
	{ "help", cmd_help, "", "this text" },
};

static const struct cmd *find_cmd(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

int usage_of(const char *name)
{
	const struct cmd *c = find_cmd(name);

	fflush(stdout);
	fprintf(stderr, "usage: p2pbuf %s %s\n", name, c ? c->usage : "");
	return CMD_USAGE;
}

static int cmd_help(int argc, char **argv)
{
	unsigned int i;

	printf("usage: p2pbuf COMMAND [ARGS] [-- COMMAND [ARGS]]...\n"
	       "       p2pbuf script [FILE|-]\n\n"
	       "Objects live as long as this process: chain commands with \"--\" or\n"
	       "run a script. EXP and IMP are exporter and importer devices, by PCI\n"
	       "address (BDF) or by the name given to \"open\"; BUF names a dma-buf\n"
	       "and IMPORT an import, created as buf1, imp1, ... or \"as NAME\".\n\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		printf("  %s%s%s\n      %s\n", cmds[i].name,
		       *cmds[i].usage ? " " : "", cmds[i].usage, cmds[i].help);
	printf("\nExit status: 0 success, 1 a command failed, 2 usage error.\n");
	return 0;
}

static int run_cmd(int argc, char **argv)
{
	const struct cmd *c = find_cmd(argv[0]);

	if (!c) {
		fflush(stdout);
		fprintf(stderr, "p2pbuf: unknown command '%s' (see p2pbuf help)\n",
			argv[0]);
		return CMD_USAGE;
	}
	return c->fn(argc, argv);
}

/* The command as it would be typed, before its output. */
static void echo_cmd(int argc, char **argv)
{
	int i;

	printf("p2pbuf>");
	for (i = 0; i < argc; i++)
		printf(strpbrk(argv[i], " \t#") || !*argv[i] ? " \"%s\"" : " %s",
		       argv[i]);
	printf("\n");
}

/*
 * Split @line into words in place: blanks separate, "double quotes" group,
 * # starts a comment. Returns the number of words, or -EINVAL.
 */
static int split_words(char *line, char **argv, int max)
{
	char *r = line, *w = line;
	int argc = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
			r++;
		if (!*r || *r == '#')
			return argc;
		if (argc == max)
			return -E2BIG;
		argv[argc++] = w;
		while (*r && *r != ' ' && *r != '\t' && *r != '\n' &&
		       *r != '\r') {
			if (*r != '"') {
				*w++ = *r++;
				continue;
			}
			r++;
			while (*r && *r != '"')
				*w++ = *r++;
			if (!*r)
				return -EINVAL;
			r++;
		}
		if (*r)
			r++;
		*w++ = '\0';
	}
}

static int run_script(FILE *f, bool interactive)
{
	char *argv[MAX_ARGS], *line = NULL;
	size_t cap = 0;
	int argc, ret = 0;

	for (;;) {
		if (interactive) {
			printf("p2pbuf> ");
			fflush(stdout);
		}
		if (getline(&line, &cap, f) < 0)
			break;
		argc = split_words(line, argv, MAX_ARGS);
		if (!argc)
			continue;
		if (argc > 0 && interactive && !strcmp(argv[0], "quit"))
			break;
		if (argc < 0) {
			fprintf(stderr, "p2pbuf: cannot parse: %s", line);
			ret = CMD_USAGE;
		} else {
			if (!interactive && strcmp(argv[0], "echo"))
				echo_cmd(argc, argv);
			ret = run_cmd(argc, argv);
		}
		if (ret && !interactive)
			break;
	}
	if (interactive)
		printf("\n");
	free(line);
	return interactive ? 0 : ret;
}

static int exit_code(int ret)
{
	if (!ret)
		return 0;
	return ret == CMD_USAGE ? EXIT_USAGE : EXIT_FAILED;
}

int main(int argc, char **argv)
{
	int start, i, ret = 0;
	bool sequence = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return cmd_help(0, NULL) ? EXIT_FAILED : EXIT_USAGE;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			sequence = true;

	for (start = 1; start < argc && !ret; start = i + 1) {
		for (i = start; i < argc && strcmp(argv[i], "--"); i++)
			;
		if (i == start)
			continue;
		argv[i] = NULL;
		if (sequence)
			echo_cmd(i - start, argv + start);
		ret = run_cmd(i - start, argv + start);
	}
	return exit_code(ret);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * exporter_test: QUERY, REVOKE and RESTORE without an importer,
 * and the debugfs view.
 *
 * Not a translation unit of its own: exporter_test.c includes this file
 * after the exporter fixture, in the order the tests register and run.
 */

TEST_F(exporter, query)
{
	struct p2pbuf_exp_attach_state st[2];
	struct p2pbuf_exp_query q;
	int buf;

	buf = export_pages(_metadata, self->fd, self->bar, 0, 8);
	ASSERT_LE(0, buf);
	memset(st, 0xa5, sizeof(st));
	ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	EXPECT_EQ(8 * PAGE, q.size);
	EXPECT_EQ(self->bar, q.bar);
	EXPECT_EQ(1U, q.nr_ranges);
	EXPECT_EQ(0U, q.revokes);
	EXPECT_EQ(0U, q.nr_attachments);
	/* Nothing to report: the array is not written. */
	EXPECT_EQ(0xa5, ((unsigned char *)st)[0]);
	close(buf);
}

/*
 * REVOKE, RESTORE and QUERY share these rejections. Their arguments share
 * the layout of argsz, flags and fd.
 */
static void bad_buffer_args(struct __test_metadata *_metadata,
			    EXPORTER_SELF *self, unsigned long cmd, int buf)
{
	union {
		struct p2pbuf_exp_query q;
		struct p2pbuf_exp_revoke r;
		__u8 raw[256];
	} a;
	bool query = cmd == P2PBUF_EXP_QUERY;
	size_t ksize = query ? sizeof(a.q) : sizeof(a.r);
	int other, foreign, fd;

	memset(&a, 0, sizeof(a));
	a.q.fd = buf;
	/* Below the first version's size; QUERY grew since (revoke_reasons). */
	a.q.argsz = (query ? offsetof(struct p2pbuf_exp_query, revoke_reasons) :
		     ksize) - 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));
	a.q.argsz = ksize + 8;
	a.raw[ksize + 7] = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, cmd, &a));
	a.raw[ksize + 7] = 0;
	a.q.argsz = ksize;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, cmd, NULL));

	a.q.flags = query ? 1 : 2;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));
	a.q.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));
	a.q.flags = 0;
	if (query)
		a.q.reserved = 1;
	else
		a.r.reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));
	a.q.reserved = 0;
	a.r.reserved = 0;

	a.q.fd = -1;
	EXPECT_ERRNO(EBADF, ioctl(self->fd, cmd, &a));
	fd = dup(0);
	ASSERT_LE(0, fd);
	close(fd);
	a.q.fd = fd;		/* just closed */
	EXPECT_ERRNO(EBADF, ioctl(self->fd, cmd, &a));
	a.q.fd = self->fd;	/* not a dma-buf */
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));

	foreign = foreign_dmabuf();
	EXPECT_LE(0, foreign) TH_LOG("udmabuf: %s", strerror(errno));
	if (foreign >= 0) {
		a.q.fd = foreign;
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));
		close(foreign);
	}

	/* Our buffer, through another exporter file of the same device. */
	other = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	a.q.fd = buf;
	EXPECT_ERRNO(EINVAL, ioctl(other, cmd, &a));
	close(other);
}

TEST_F(exporter, query_bad_args)
{
	struct p2pbuf_exp_query q;
	int buf;

	buf = export_pages(_metadata, self->fd, self->bar, 0, 1);
	ASSERT_LE(0, buf);
	bad_buffer_args(_metadata, self, P2PBUF_EXP_QUERY, buf);
	ASSERT_EQ(0, exp_query(self->fd, buf, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	close(buf);
}

TEST_F(exporter, revoke_bad_args)
{
	struct p2pbuf_exp_query q;
	int buf;

	buf = export_pages(_metadata, self->fd, self->bar, 0, 1);
	ASSERT_LE(0, buf);
	bad_buffer_args(_metadata, self, P2PBUF_EXP_REVOKE, buf);
	bad_buffer_args(_metadata, self, P2PBUF_EXP_RESTORE, buf);
	/* REVOKE_ALL names no buffer. */
	EXPECT_ERRNO(EINVAL, exp_revoke(self->fd, P2PBUF_EXP_REVOKE,
					P2PBUF_EXP_REVOKE_ALL, buf));
	EXPECT_ERRNO(EINVAL, exp_revoke(self->fd, P2PBUF_EXP_RESTORE,
					P2PBUF_EXP_REVOKE_ALL, 0));
	/* None of that changed the buffer. */
	ASSERT_EQ(0, exp_query(self->fd, buf, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	EXPECT_EQ(0U, q.revokes);
	close(buf);
}

/* Without importers: the state machine and the counts. */
TEST_F(exporter, revoke_restore)
{
	struct p2pbuf_exp_query q;
	int a, b;

	a = export_pages(_metadata, self->fd, self->bar, 0, 1);
	b = export_pages(_metadata, self->fd, self->bar, PAGE, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);

	EXPECT_EQ(1, exp_revoke(self->fd, P2PBUF_EXP_REVOKE, 0, a));
	EXPECT_EQ(0, exp_revoke(self->fd, P2PBUF_EXP_REVOKE, 0, a));
	ASSERT_EQ(0, exp_query(self->fd, a, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
	EXPECT_EQ(1U, q.revokes);
	ASSERT_EQ(0, exp_query(self->fd, b, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);

	EXPECT_EQ(1, exp_revoke(self->fd, P2PBUF_EXP_RESTORE, 0, a));
	EXPECT_EQ(0, exp_revoke(self->fd, P2PBUF_EXP_RESTORE, 0, a));
	ASSERT_EQ(0, exp_query(self->fd, a, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	EXPECT_EQ(1U, q.revokes);

	EXPECT_EQ(2, exp_revoke(self->fd, P2PBUF_EXP_REVOKE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	EXPECT_EQ(0, exp_revoke(self->fd, P2PBUF_EXP_REVOKE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	EXPECT_EQ(2, exp_revoke(self->fd, P2PBUF_EXP_RESTORE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	ASSERT_EQ(0, exp_query(self->fd, b, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	EXPECT_EQ(1U, q.revokes);
	ASSERT_EQ(0, exp_query(self->fd, a, NULL, 0, &q));
	EXPECT_EQ(2U, q.revokes);
	close(a);
	close(b);
}

/* REVOKE_ALL reaches only the buffers of its own file. */
TEST_F(exporter, revoke_all_per_file)
{
	struct p2pbuf_exp_query q;
	int other, a, b;

	other = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	a = export_pages(_metadata, self->fd, self->bar, 0, 1);
	b = export_pages(_metadata, other, self->bar, 0, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(1, exp_revoke(other, P2PBUF_EXP_REVOKE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	ASSERT_EQ(0, exp_query(self->fd, a, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	ASSERT_EQ(0, exp_query(other, b, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
	close(a);
	close(b);
	close(other);
}

/* The debugfs view (not an ABI) shows a revoked three-range buffer. */
TEST_F(exporter, debugfs_state)
{
	struct p2pbuf_exp_range r[] = {
		{ 0, PAGE }, { 2 * PAGE, PAGE }, { 4 * PAGE, PAGE },
	};
	bool saw_dev = false, saw_buf = false;
	char path[256], line[512];
	FILE *f;
	int buf;

	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/p2pbuf_exporter/%s/state", self->bdf);
	if (p2pbuf_debugfs_mount() || access(path, R_OK))
		p2pbuf_feature_missing(return, "%s not readable", path);
	buf = exp_export(self->fd, self->bar, r, 3, O_RDWR, NULL);
	ASSERT_LE(0, buf);
	ASSERT_EQ(1, exp_revoke(self->fd, P2PBUF_EXP_REVOKE, 0, buf));

	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "device ") && strstr(line, ": bound"))
			saw_dev = true;
		if (strstr(line, "owned bar") && strstr(line, "ranges 3 revoked revokes 1"))
			saw_buf = true;
	}
	fclose(f);
	EXPECT_TRUE(saw_dev);
	EXPECT_TRUE(saw_buf);
	close(buf);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * conform_test, the checks of file descriptors and lifetimes: the buffer
 * passed to another process and closes in every order. Part of
 * conform_test.c (the harness allows one translation unit), not a program
 * of its own.
 */

/* Send @fd over the unix socket @sock; 0 or -errno. */
static int conf_send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* The fd received over @sock, or -errno. */
static int conf_recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * The child of scm_rights: receive the buffer, wait until the parent has
 * closed its own fd, import it through an importer file of its own and move
 * data. Exit status 0, or the step that failed: 5 and 6 are wrong data
 * (device writes, device reads), 7 an error moving it.
 */
static int conf_scm_child(struct _test_data_conform *self, int sock)
{
	struct p2pbuf_imp_map m;
	char path[128], go;
	int buf, imp;
	long diff;
	__u32 h;

	buf = conf_recv_fd(sock);
	if (buf < 0)
		return 1;
	if (read(sock, &go, 1) != 1)
		return 2;
	snprintf(path, sizeof(path), "/dev/p2pbuf-imp-%s", self->ibdf);
	imp = open(path, O_RDWR | O_CLOEXEC);
	if (imp < 0)
		return 3;
	if (conf_import_map(self, imp, buf, &h, &m))
		return 4;
	/* The importer's reference keeps the buffer without the fd. */
	close(buf);
	diff = conf_dma_check(self, imp, h, 0, CONF_PROBE, true, 19);
	if (diff)
		return diff < 0 ? 7 : 5;
	diff = conf_dma_check(self, imp, h, 0, CONF_PROBE, false, 21);
	if (diff)
		return diff < 0 ? 7 : 6;
	return 0;	/* exit closes the importer file: the import goes */
}

TEST_F_TIMEOUT(conform, scm_rights, 120)
{
	int sv[2], buf, status;
	pid_t pid;

	if (!self->routed)
		SKIP(return, NO_ROUTE);
	buf = conf_buf(self, 1, CONF_LEN);
	ASSERT_LE(0, buf) TH_LOG("create: %s", strerror(-buf));
	/* The count below means something: the buffer is seen by its name. */
	ASSERT_EQ(self->dmabufs + 1, p2pbuf_count_dmabufs(self->ex->exp_name))
		TH_LOG("no new dma-buf named %s", self->ex->exp_name);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		_exit(conf_scm_child(self, sv[1]));
	}
	close(sv[1]);
	ASSERT_EQ(0, conf_send_fd(sv[0], buf));
	/* The exporter's view and the child's import outlive this fd. */
	close(buf);
	ASSERT_EQ(1, write(sv[0], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(sv[0]);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child failed at step %d", WEXITSTATUS(status));
	/*
	 * Everything that held the buffer is gone, and so is the buffer (the
	 * adapter may keep its last buffer for its own view: closed first).
	 */
	self->ex->close(self->priv);
	self->priv = NULL;
	EXPECT_EQ(self->dmabufs, p2pbuf_count_dmabufs(self->ex->exp_name));
}

/* What a close order closes, one letter each: buffer fd, import, owner. */
static const char * const conf_orders[] = {
	"bio", "boi", "ibo", "iob", "obi", "oib",
};

/* One close order @o of a mapped buffer; 0 or the -errno of a step. */
static int conf_close_order(struct _test_data_conform *self, const char *o)
{
	struct p2pbuf_imp_map m;
	char why[160];
	int buf, ret;
	__u32 h;

	buf = conf_buf(self, 1, CONF_LEN);
	if (buf < 0)
		return buf;
	ret = conf_import_map(self, self->imp, buf, &h, &m);
	for (; !ret && *o; o++) {
		switch (*o) {
		case 'b':
			ret = close(buf) ? -errno : 0;
			break;
		case 'i':
			ret = imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h);
			break;
		case 'o':
			if (!self->ex->close_owner)
				break;
			ret = self->ex->close_owner(self->priv);
			self->ex->close(self->priv);
			self->priv = NULL;
			ret = ret ?: self->ex->open(&self->priv, why, sizeof(why));
			break;
		}
	}
	imp_drain_events(self->imp);
	return ret;
}

TEST_F_TIMEOUT(conform, close_orders, 60)
{
	unsigned int i;
	int ret;

	if (!self->routed)
		SKIP(return, NO_ROUTE);
	for (i = 0; i < ARRAY_SIZE(conf_orders); i++) {
		ret = conf_close_order(self, conf_orders[i]);
		ASSERT_EQ(0, ret) TH_LOG("order %s: %s", conf_orders[i],
					 strerror(-ret));
		ASSERT_NE(NULL, self->priv);
	}
	/* The heap adapter keeps its last buffer for its own view. */
	self->ex->close(self->priv);
	self->priv = NULL;
	EXPECT_EQ(self->dmabufs, p2pbuf_count_dmabufs(self->ex->exp_name));
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_test, "imp" fixture: the life of an open file: events, closing it,
 * and unbinding the device under it.
 */
#ifndef P2PBUF_IMPORTER_FILE_TESTS_H
#define P2PBUF_IMPORTER_FILE_TESTS_H

#include "importer_fixture.h"

/* No events yet: non-blocking read, poll, and a buffer too small. */
TEST_F(imp, events_empty)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct p2pbuf_imp_event ev;
	int flags;

	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	flags = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-ETIMEDOUT, imp_read_event(self->fd, &ev, 100));
}

/* Closing the file unmaps and detaches every import. */
TEST_F(imp, close_detaches_everything)
{
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, fd2, ret;
	char bdf[64];
	__u32 h1, h2;

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		SKIP(return, "no udmabuf (%s)", strerror(-dmabuf));
	if (imp_attach_count(dmabuf, self->bdf) == -ENOENT)
		SKIP(return, "no /sys/kernel/debug/dma_buf/bufinfo to check");
	fd2 = imp_open(bdf, sizeof(bdf));
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, imp_import(fd2, dmabuf, 0, &h1, NULL));
	ASSERT_EQ(0, imp_import(fd2, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h2, NULL));
	EXPECT_NE(h1, h2);
	ASSERT_EQ(0, imp_map(fd2, h1, &m, NULL, 0));
	ASSERT_EQ(0, imp_map(fd2, h2, &m, NULL, 0));
	EXPECT_EQ(2, imp_attach_count(dmabuf, self->bdf));
	close(fd2);
	ret = imp_attach_count(dmabuf, self->bdf);
	EXPECT_EQ(0, ret);
	close(dmabuf);
	close(memfd);
}

/*
 * Unbinding with an open file and a mapped import: the import is gone when
 * the unbind returns, later ioctls are -ENODEV, a reader gets -ENODEV and
 * poll() EPOLLHUP. Rebinds the device afterwards.
 */
TEST_F_TIMEOUT(imp, unbind_with_open_file, 60)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_event ev;
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, fd2;
	char drv[64], bdf[64];
	__u32 h;

	if (!p2pbuf_env("P2PBUF_INITIATOR_BDF"))
		SKIP(return, "rebinding is only done in the lab");
	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		SKIP(return, "no udmabuf (%s)", strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h,
				NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));

	ASSERT_EQ(0, p2pbuf_pci_bind(self->bdf, ""));
	imp_pci_driver(self->bdf, drv, sizeof(drv));
	EXPECT_STREQ("", drv);
	if (imp_attach_count(dmabuf, self->bdf) != -ENOENT)
		EXPECT_EQ(0, imp_attach_count(dmabuf, self->bdf));
	EXPECT_EQ(-ENODEV, imp_status(self->fd, h, &st));
	EXPECT_EQ(-ENODEV, imp_map(self->fd, h, &m, NULL, 0));
	EXPECT_EQ(-ENODEV, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	EXPECT_EQ(-ENODEV, imp_info(self->fd, &self->info));
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLHUP);

	/* Back as it was: bound, with a new device node that works. */
	ASSERT_EQ(0, p2pbuf_pci_bind(self->bdf, "p2pbuf_importer"));
	imp_pci_driver(self->bdf, drv, sizeof(drv));
	ASSERT_STREQ("p2pbuf_importer", drv);
	fd2 = imp_open(bdf, sizeof(bdf));
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, imp_import(fd2, dmabuf, 0, &h, NULL));
	EXPECT_EQ(0, imp_map(fd2, h, &m, NULL, 0));
	close(fd2);
	/* The stale file still only says -ENODEV, and closes cleanly. */
	EXPECT_EQ(-ENODEV, imp_status(self->fd, h, &st));
	close(dmabuf);
	close(memfd);
}

#endif /* P2PBUF_IMPORTER_FILE_TESTS_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * conform_test, the checks of a buffer's ranges: several ranges out of
 * order with gaps, and one range of more than 4 GiB. Part of
 * conform_test.c (the harness allows one translation unit), not a program
 * of its own.
 */

TEST_F_TIMEOUT(conform, multi_range, 120)
{
	struct p2pbuf_imp_map m;
	unsigned int i;
	int buf, ret;
	__u32 h;

	if (conf_na(self, CONF_CAP_MULTI_RANGE))
		SKIP(return, "n/a: %s", conf_na(self, CONF_CAP_MULTI_RANGE));
	if (!self->routed)
		SKIP(return, NO_ROUTE);
	buf = conf_buf(self, 4, CONF_LEN);
	ASSERT_LE(0, buf) TH_LOG("create: %s", strerror(-buf));
	ret = conf_import_map(self, self->imp, buf, &h, &m);
	ASSERT_EQ(0, ret) TH_LOG("map of four ranges: %s", strerror(-ret));
	EXPECT_EQ(4 * CONF_LEN, m.length);
	TH_LOG("%s: %u DMA segments, %s", self->ex->name, m.nr_segs,
	       imp_map_type_name(m.map_type));
	/*
	 * The first and the last bytes, and across every boundary between
	 * ranges: each byte where its range lies (probes, see CONF_PROBE).
	 */
	conf_expect_data(_metadata, self, self->imp, h, 0, 1024, 7);
	for (i = 1; i < 4; i++)
		conf_expect_data(_metadata, self, self->imp, h,
				 i * CONF_LEN - 512, 1024, 7 + 2 * i);
	conf_expect_data(_metadata, self, self->imp, h, 4 * CONF_LEN - 1024,
			 1024, 15);
	close(buf);
}

TEST_F_TIMEOUT(conform, big_range, 120)
{
	struct p2pbuf_imp_map m;
	__u64 space = self->ex->space(self->priv);
	int buf, ret;
	__u32 h;

	if (space < CONF_BIG + CONF_GAP && !(self->ex->caps & CONF_CAP_P2P))
		SKIP(return,
		     "%s: the adapter's system memory is %llu MiB (4 GiB pinned is too much)",
		     self->ex->name, (unsigned long long)space >> 20);
	if (space < CONF_BIG + CONF_GAP)
		SKIP(return,
		     "%s: %llu MiB of memory, the check needs %llu MiB (P2PBUF_IVSHMEM_SIZE=8G)",
		     self->ex->name, (unsigned long long)space >> 20,
		     CONF_BIG >> 20);
	if (!self->routed)
		SKIP(return, NO_ROUTE);
	buf = conf_buf(self, 1, CONF_BIG);
	ASSERT_LE(0, buf) TH_LOG("create of %llu bytes: %s", CONF_BIG,
				 strerror(-buf));
	ret = conf_import_map(self, self->imp, buf, &h, &m);
	ASSERT_EQ(0, ret) TH_LOG("map of %llu bytes: %s", CONF_BIG, strerror(-ret));
	EXPECT_EQ(CONF_BIG, m.length);
	TH_LOG("%s: %u DMA segments", self->ex->name, m.nr_segs);
	conf_expect_data(_metadata, self, self->imp, h, 0, 4096, 13);
	conf_expect_data(_metadata, self, self->imp, h, (4ULL << 30) - 2048, 4096, 15);
	conf_expect_data(_metadata, self, self->imp, h, CONF_BIG - 4096, 4096, 17);
	close(buf);
}

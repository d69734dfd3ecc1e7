// SPDX-License-Identifier: GPL-2.0
/*
 * lab_test: the lab's topology is what the other suites expect, and both
 * modules bind and unbind their devices cleanly through driver_override.
 */
#include <libgen.h>
#include <limits.h>

#include "p2pbuf_test.h"

static int driver_of(const char *bdf, char *name, size_t len)
{
	char path[256], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	snprintf(name, len, "%s", basename(target));
	return 0;
}

FIXTURE(lab) {
	const char *provider;
	const char *initiator;
};

FIXTURE_SETUP(lab)
{
	self->provider = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	self->initiator = p2pbuf_env("P2PBUF_INITIATOR_BDF");
	if (!self->provider || !self->initiator)
		SKIP(return, "not in the lab: P2PBUF_PROVIDER_BDF/P2PBUF_INITIATOR_BDF unset");
}

FIXTURE_TEARDOWN(lab)
{
}

TEST_F(lab, provider_bound_to_exporter)
{
	char drv[64];

	ASSERT_EQ(0, driver_of(self->provider, drv, sizeof(drv)));
	EXPECT_STREQ("p2pbuf_exporter", drv);
}

TEST_F(lab, initiator_bound_to_importer)
{
	char drv[64];

	ASSERT_EQ(0, driver_of(self->initiator, drv, sizeof(drv)));
	EXPECT_STREQ("p2pbuf_importer", drv);
}

TEST_F(lab, rebind_cycles)
{
	char drv[64];
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, p2pbuf_pci_bind(self->provider, ""));
		EXPECT_EQ(-ENOENT, driver_of(self->provider, drv, sizeof(drv)));
		ASSERT_EQ(0, p2pbuf_pci_bind(self->initiator, ""));
		EXPECT_EQ(-ENOENT, driver_of(self->initiator, drv, sizeof(drv)));
		ASSERT_EQ(0, p2pbuf_pci_bind(self->provider, "p2pbuf_exporter"));
		ASSERT_EQ(0, p2pbuf_pci_bind(self->initiator, "p2pbuf_importer"));
	}
	ASSERT_EQ(0, driver_of(self->provider, drv, sizeof(drv)));
	EXPECT_STREQ("p2pbuf_exporter", drv);
	ASSERT_EQ(0, driver_of(self->initiator, drv, sizeof(drv)));
	EXPECT_STREQ("p2pbuf_importer", drv);
}

TEST_HARNESS_MAIN

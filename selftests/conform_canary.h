/* SPDX-License-Identifier: GPL-2.0 */
/*
 * conform_canary, the kit's own proof: adapters with a planted defect
 * (conform_planted.c), each run through the checks that must catch it.
 * Included by conform_test.c built with CONF_CANARY, in place of the real
 * exporters' variants. lab/xfail.manifest lists every one of those
 * failures with the assertion that must report it, so a check that stops
 * catching its defect fails the run (XPASS); the other checks SKIP.
 */
#ifndef P2PBUF_CONFORM_CANARY_H
#define P2PBUF_CONFORM_CANARY_H

#include "conform.h"

extern const struct conf_exporter conf_planted_gate;
extern const struct conf_exporter conf_planted_revoke;
extern const struct conf_exporter conf_planted_unwaited;
extern const struct conf_exporter conf_planted_late;
extern const struct conf_exporter conf_planted_early_restore;
extern const struct conf_exporter conf_planted_norestore;
extern const struct conf_exporter conf_planted_view;
extern const struct conf_exporter conf_planted_offset32;
extern const struct conf_exporter conf_planted_order;

#ifdef FIXTURE_VARIANT_ADD
FIXTURE_VARIANT_ADD(conform, planted_gate) {
	.ex = &conf_planted_gate,
	.planted = "attach_gating",
};

FIXTURE_VARIANT_ADD(conform, planted_revoke) {
	.ex = &conf_planted_revoke,
	.planted = "revoke_invalidates close_owner",
};

FIXTURE_VARIANT_ADD(conform, planted_unwaited) {
	.ex = &conf_planted_unwaited,
	.planted = "revoke_invalidates",
};

FIXTURE_VARIANT_ADD(conform, planted_late) {
	.ex = &conf_planted_late,
	.planted = "revoke_invalidates",
};

FIXTURE_VARIANT_ADD(conform, planted_early_restore) {
	.ex = &conf_planted_early_restore,
	.planted = "map_after_revoke",
};

FIXTURE_VARIANT_ADD(conform, planted_norestore) {
	.ex = &conf_planted_norestore,
	.planted = "restore",
};

FIXTURE_VARIANT_ADD(conform, planted_view) {
	.ex = &conf_planted_view,
	.planted = "data_both_ways restore multi_range big_range scm_rights",
};

FIXTURE_VARIANT_ADD(conform, planted_offset32) {
	.ex = &conf_planted_offset32,
	.planted = "big_range",
};

FIXTURE_VARIANT_ADD(conform, planted_order) {
	.ex = &conf_planted_order,
	.planted = "multi_range",
};
#endif /* FIXTURE_VARIANT_ADD */

#endif /* P2PBUF_CONFORM_CANARY_H */

// Package app wires DealerDesk together: configuration, database, the platform
// services and the domains, and the HTTP server.
//
// Import direction (enforced by TestImportDirection):
//
//	main → cli → app → httpapi → demo → domains (crm, inventory, sales with sales/sop, sales/testdrive, sales/tradein, sales/order) → system →
//	org, attach, notify, approval, timeline, task, findex → api → auth → audit →
//	db, jobs → apperr, clock, config, pii, sheet → search, backup, embedui
//
// Between domains: report may read all; sales (and its sop, testdrive and order
// packages, which import each other downward: order → sales → tradein → sop, testdrive → sop)
// and aftersales may import crm and inventory; the others import no domain. A lower package never imports upward: it
// exposes a hook, or the higher one calls it.
package app

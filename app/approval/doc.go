// Package approval is the one workflow engine of DealerDesk (DOMAIN.md S5): special
// discounts, contracts, rebates, lost customers (L6), expenses (F2) and purchases
// all go through it. A domain registers its document type (how to describe a
// document, who may read it, what to do when it is decided) and calls Submit inside
// its own write transaction; the engine routes the document by the store's
// definitions (conditions on the document's fields → sequential steps, each "any"
// or "all" of its approvers), keeps one task per approver and step, reminds, lets
// a delegate act for an absent approver, writes the customer timeline, the audit
// log and notifications, and calls the document back in the deciding transaction.
//
// Invariants, kept by the database:
//   - A document has at most one pending approval (partial UNIQUE index on
//     approval_instance (doc_type, doc_id) WHERE status = 'pending').
//   - A task is decided once and an "any" step once: decisions are conditional
//     updates (… WHERE status = 'waiting', … WHERE version = ?) whose RowsAffected
//     is checked, so two approvers clicking at once give exactly one decision and
//     one Decided call.
//   - A reminder is sent at most once per count: the job advances reminded_count
//     with a conditional update before it sends, and the notification's dedup key
//     carries the count.
//   - The submitter never approves their own document (dropped at submit, refused
//     when acting as someone's delegate).
package approval

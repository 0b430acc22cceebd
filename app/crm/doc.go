// Package crm is leads and customers (DOMAIN.md L1–L7, with P2 privacy for
// customer data): capture from every channel, one identity per phone, automatic
// assignment, response deadlines with escalation, the shared pool, the 360°
// profile and timeline, grades and lifecycle, follow-ups, and the customer list.
//
// Invariants it guarantees (each proven by a test):
//   - One customer per phone per store: UNIQUE (store_id, phone) on
//     customer_phone; a lead with a known phone attaches to that customer, also
//     when many arrive at the same moment.
//   - Exactly one owner (or none: the pool) per customer; every change of owner
//     is one customer_assignment row and one timeline entry.
//   - Deadline reminders are sent once per level: the level is raised by a
//     conditional update before the notification (whose dedup key repeats the
//     level), so a restart or a clock jump neither repeats nor skips one.
//   - A customer becomes lost only through an approved lost request.
package crm

// Package system holds what the appliance itself needs: first-run setup, health,
// the security settings page, and the audit-log search (DOMAIN.md P1, P7).
//
// Invariants:
//   - Setup works only while no user exists, and only from the machine itself or
//     with the one-time token printed at start; two setups racing create one group.
//   - Settings are rows in the settings table, edited here and audited.
package system

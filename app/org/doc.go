// Package org holds the organisation (DOMAIN.md section 0, P1, P3): the group, its
// stores, departments/teams, the employees who sign in (users), roles with their
// permissions and data scope, and API keys for integrations.
//
// Invariants:
//   - Every access goes through auth.Check / auth.Filter with the record's store,
//     owner and team; nothing here decides on its own.
//   - Nobody can hand out more than they hold: a role can only be created or edited
//     by someone who holds all its permissions at an equal or wider scope, and a
//     user can only be put in (or managed while in) a role whose privileged
//     permissions the manager holds.
//   - Edits carry the version that was read; a stale version is a conflict, never a
//     silent overwrite (two managers editing one user).
//   - Disabling a user or resetting the password ends the user's sessions in the
//     same transaction.
//   - Every write appends an audit row in its own transaction.
package org

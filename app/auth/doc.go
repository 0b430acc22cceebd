// Package auth signs people in and decides every access.
//
// DOMAIN.md P1: roles with permissions and data scopes, login lock-out, session
// timeouts, API keys. Invariants:
//   - One check decides access: Can/Check for a single record, Filter for list
//     queries. No handler or store decides on its own.
//   - A record outside the actor's data scope is reported as not found, so ids of
//     other stores or consultants cannot be probed.
//   - Passwords are stored as argon2id hashes; session tokens and API keys only as
//     SHA-256 hashes.
//   - Sessions end at the idle timeout, at the absolute lifetime, at sign-out, and at
//     once when the user is disabled or the password changes.
package auth

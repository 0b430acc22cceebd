// Package notify is the one notification service every module uses (DOMAIN.md P5,
// in-app part): domains call Send inside their write transaction, the rows land in
// the user's inbox, and signed-in browsers get them live over Server-Sent Events.
// Chat robots and e-mail are further channels of this same service.
//
// Invariants:
//   - A notification is written in the same transaction as the change that caused
//     it: a rolled-back change never notifies, a committed one always does.
//   - A message with a dedup key reaches a user at most once (a partial UNIQUE
//     index), so scheduled reminders survive restarts, double runs and clock jumps.
//   - Live delivery never loses a message: Wake after commit makes it immediate,
//     and every stream also polls its user's newest id, so a forgotten or early
//     Wake only makes it late. Event ids are notification ids, so a reconnecting
//     browser (Last-Event-ID) gets what it missed exactly once.
//   - A user sees and changes only their own notifications; others' answer 404.
//   - Mandatory kinds (SLA escalations, approval requests) cannot be muted.
//   - A stream never outlives its session: it re-checks the session before it
//     sends and on every heartbeat, and ends at sign-out, revocation or idle timeout.
package notify

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
//
// Delivery channels (DOMAIN.md P5, outgoing part): a store's WeCom, DingTalk and
// Feishu group robots and e-mail mailboxes subscribe to notification kinds
// (channel.go, robot.go, email.go), and outgoing webhooks subscribe to business
// events (webhook.go). Both go through the outbox (outbox.go):
//   - Send and Emit only insert delivery rows, inside the caller's transaction;
//     nothing network-related runs there, so a dead robot or receiver never
//     fails or slows the action that caused the message.
//   - One event posts once per channel however many users it reaches
//     (UNIQUE (channel_id, group_key), 10-minute buckets), and is queued once per
//     webhook (UNIQUE (webhook_id, event_id)). User mutes do not apply to robots:
//     they speak to a group.
//   - A delivery row is sent by one worker at a time (claimed by a conditional
//     UPDATE … RETURNING with a lease), retried after 30 s, 2 min, 10 min,
//     30 min, 2 h and 6 h, and after the 7th failed attempt marked failed, which
//     tells the store's settings managers in-app (channel.failed, webhook.failed).
//     A channel gets at most 20 messages a minute (the robots' limit).
//   - Credentials never leave: robot URLs (their token), secrets and passwords
//     are masked in API answers and the audit log, and scrubbed from stored and
//     logged errors. Robot messages mask phone and ID numbers.
//   - Webhook bodies are signed (X-DealerDesk-Signature, HMAC-SHA256 over
//     "<t>.<body>"); personal data (full phones, names) goes only to webhooks
//     that opted in.
//
// Webhook events: lead.created, customer.created, lead.assigned, customer.lost
// (crm), approval.decided (approval), ping (the test button). order.signed and
// repair_order.done are registered for the sales and after-sales modules, which
// are not built yet: nothing emits them so far.
package notify

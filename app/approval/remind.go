package approval

import (
	"context"
	"database/sql"
	"fmt"

	"dealerdesk/app/db"
	"dealerdesk/app/notify"
)

// remindBatch bounds one run of the reminder job; the next run takes the rest.
const remindBatch = 500

// RemindDue reminds approvers whose tasks have waited past the store's interval
// (settings key "approval", remindHours, default 4 h) and again each interval,
// up to three times. Each reminder first advances the task's reminded_count with a
// conditional update, and its notification's dedup key carries that count, so a
// second run, a restart or a clock jump never sends one twice. The next reminder
// is due one interval after now (not after the missed due time), so a jump in time
// gives one reminder, not a burst. It returns how many tasks were reminded.
func (s *Service) RemindDue(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.R.QueryContext(ctx, `SELECT t.id, t.instance_id, t.approver_id, t.reminded_count FROM approval_task t
		WHERE t.status = 'waiting' AND t.remind_due_at IS NOT NULL AND t.remind_due_at <= ? ORDER BY t.remind_due_at, t.id LIMIT ?`, now, remindBatch)
	if err != nil {
		return 0, fmt.Errorf("approval: due reminders: %w", err)
	}
	type due struct {
		id, instance, approver int64
		count                  int
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.instance, &d.approver, &d.count); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range list {
		err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			ok, err := s.remind(ctx, tx, d.id, d.instance, d.approver, d.count, now)
			if ok {
				sent++
			}
			return err
		})
		if err != nil {
			return sent, err
		}
	}
	if sent > 0 {
		s.Wake()
	}
	return sent, nil
}

// remind sends one reminder for a task if it is still waiting with the count the
// job read; false means another run got there first.
func (s *Service) remind(ctx context.Context, q db.Querier, taskID, instanceID, approver int64, count int, now int64) (bool, error) {
	x, err := getInstance(ctx, q, instanceID)
	if err != nil {
		return false, err
	}
	interval, err := remindAfter(ctx, q, x.StoreID)
	if err != nil {
		return false, err
	}
	n := count + 1
	var next any = now + interval
	if n >= maxReminders {
		next = nil
	}
	r, err := q.ExecContext(ctx, `UPDATE approval_task SET reminded_count = ?, remind_due_at = ?
		WHERE id = ? AND status = 'waiting' AND reminded_count = ? AND remind_due_at <= ?`, n, next, taskID, count, now)
	if err != nil {
		return false, fmt.Errorf("approval: advance reminder of task %d: %w", taskID, err)
	}
	if k, err := r.RowsAffected(); err != nil || k == 0 {
		return false, err
	}
	to, err := s.recipients(ctx, q, x, approver, now)
	if err != nil {
		return false, err
	}
	var msgs []Message
	for _, uid := range to {
		msgs = append(msgs, Message{UserID: uid, StoreID: x.StoreID, Kind: "approval.reminder", TitleKey: "notify.msg.approval_reminder",
			Params: map[string]any{"title": x.Title, "submitter": x.SubmitterName, "docType": x.DocType, "step": x.stepName(x.CurrentStep), "count": n},
			Link:   x.link(), Entity: "approval", EntityID: x.ID, DedupKey: fmt.Sprintf("approval.reminder:%d:%d:%d", taskID, n, uid), Level: notify.LevelWarning})
	}
	return true, s.send(ctx, q, msgs)
}

package sop

import (
	"context"
	"fmt"
	"slices"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
)

// CycleQuery is the period of the cycle-time report (unix ms; default the last
// 90 days up to now).
type CycleQuery struct {
	StoreID int64 `query:"storeId"`
	From    int64 `query:"from"`
	To      int64 `query:"to"`
}

// CycleRow is the time customers spent in one stage: the stays that ended in
// the period (count, average and median days), and how many stand there now.
type CycleRow struct {
	StageID    int64   `json:"stageId"`
	StageName  string  `json:"stageName"`
	Key        string  `json:"key"`
	Active     bool    `json:"active"`
	Deleted    bool    `json:"deleted"` // a stage removed since; its history stays
	Stays      int     `json:"stays"`
	AvgDays    float64 `json:"avgDays"`
	MedianDays float64 `json:"medianDays"`
	Current    int     `json:"current"`
}

// CycleReport is the cycle-time report of a store.
type CycleReport struct {
	StoreID int64      `json:"storeId"`
	From    int64      `json:"from"`
	To      int64      `json:"to"`
	Items   []CycleRow `json:"items"`
}

// CycleTime reports the days spent in each stage (report.read on the store),
// from the stays that ended in the period, in board order.
func (s *Service) CycleTime(ctx context.Context, a auth.Actor, in CycleQuery) (CycleReport, error) {
	out := CycleReport{Items: []CycleRow{}}
	if err := auth.Require(a, auth.PermReportRead); err != nil {
		return out, err
	}
	storeID, err := storeOf(a, in.StoreID)
	if err != nil {
		return out, err
	}
	now := s.now()
	if in.To == 0 {
		in.To = now
	}
	if in.From == 0 {
		in.From = in.To - (90 * 24 * time.Hour).Milliseconds()
	}
	if in.From >= in.To || in.To-in.From > (3*366*24*time.Hour).Milliseconds() {
		return out, apperr.Field("from", "sop.period_invalid")
	}
	out.StoreID, out.From, out.To = storeID, in.From, in.To
	pl, err := s.stagesFor(ctx, s.d.DB.R, storeID)
	if err != nil {
		return out, err
	}
	counts, err := stageCounts(ctx, s.d.DB.R, storeID, pl)
	if err != nil {
		return out, err
	}
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT stage_id, left_at - entered_at FROM sop_history
		WHERE store_id = ? AND left_at IS NOT NULL AND left_at >= ? AND left_at <= ?`, storeID, in.From, in.To)
	if err != nil {
		return out, fmt.Errorf("sop: cycle time: %w", err)
	}
	defer rows.Close()
	spans := map[int64][]int64{}
	for rows.Next() {
		var id, d int64
		if err := rows.Scan(&id, &d); err != nil {
			return out, err
		}
		spans[id] = append(spans[id], d)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	rows.Close()
	names := map[int64]string{}
	for id := range spans {
		if _, ok := pl.get(id); !ok {
			// a deleted stage: its name as the history kept it
			var name string
			if err := s.d.DB.R.QueryRowContext(ctx, `SELECT stage_name FROM sop_history WHERE store_id = ? AND stage_id = ? ORDER BY id DESC LIMIT 1`, storeID, id).Scan(&name); err != nil {
				return out, fmt.Errorf("sop: deleted stage %d: %w", id, err)
			}
			names[id] = name
		}
	}
	row := func(id int64, name string) CycleRow {
		r := CycleRow{StageID: id, StageName: name, Current: counts[id]}
		ds := spans[id]
		if len(ds) == 0 {
			return r
		}
		slices.Sort(ds)
		var sum int64
		for _, d := range ds {
			sum += d
		}
		r.Stays = len(ds)
		r.AvgDays = days(float64(sum) / float64(len(ds)))
		if len(ds)%2 == 1 {
			r.MedianDays = days(float64(ds[len(ds)/2]))
		} else {
			r.MedianDays = days(float64(ds[len(ds)/2-1]+ds[len(ds)/2]) / 2)
		}
		return r
	}
	for _, st := range pl.stages {
		r := row(st.ID, st.Name)
		r.Key, r.Active = st.Key, st.Active
		out.Items = append(out.Items, r)
	}
	gone := make([]int64, 0, len(names))
	for id := range names {
		gone = append(gone, id)
	}
	slices.Sort(gone)
	for _, id := range gone {
		r := row(id, names[id])
		r.Deleted = true
		out.Items = append(out.Items, r)
	}
	return out, nil
}

// days turns milliseconds into days with two decimals.
func days(ms float64) float64 {
	return float64(int64(ms/float64(day)*100+0.5)) / 100
}

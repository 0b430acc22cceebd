// Package jobs runs the appliance's scheduled work with gocron: every domain hands
// in its Jobs(), and the scheduler runs each on its interval, one run at a time.
// Jobs scan rows in the database (expired sessions now; reminders, overdue
// follow-ups and backups later), so a restart loses nothing: the next run finds
// whatever is due.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"
	_ "time/tzdata" // Windows has no zoneinfo; store working hours need Asia/Shanghai
)

// Job is one piece of scheduled work.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Runner is the started scheduler.
type Runner struct {
	s gocron.Scheduler
}

// Start schedules the jobs and starts running them; ctx is handed to every run.
func Start(ctx context.Context, log *slog.Logger, list []Job) (*Runner, error) {
	s, err := gocron.NewScheduler(gocron.WithLocation(time.UTC))
	if err != nil {
		return nil, fmt.Errorf("jobs: scheduler: %w", err)
	}
	for _, j := range list {
		j := j
		_, err := s.NewJob(gocron.DurationJob(j.Every), gocron.NewTask(func() {
			start := time.Now()
			if err := j.Run(ctx); err != nil {
				log.Error("job failed", "job", j.Name, "err", err)
				return
			}
			log.Debug("job done", "job", j.Name, "ms", time.Since(start).Milliseconds())
		}), gocron.WithName(j.Name), gocron.WithSingletonMode(gocron.LimitModeReschedule),
			gocron.WithStartAt(gocron.WithStartImmediately()))
		if err != nil {
			s.Shutdown()
			return nil, fmt.Errorf("jobs: schedule %s: %w", j.Name, err)
		}
	}
	s.Start()
	return &Runner{s: s}, nil
}

// Stop waits for running jobs and stops the scheduler.
func (r *Runner) Stop() error {
	if r == nil {
		return nil
	}
	return r.s.Shutdown()
}

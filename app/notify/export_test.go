package notify

import "time"

// SetStreamTimings shortens the heartbeat and the fallback poll for tests, which
// must not wait 25 s for a session re-check. Streams opened afterwards use them.
func SetStreamTimings(s *Service, heartbeat, poll time.Duration) {
	s.heartbeat.Store(int64(heartbeat))
	s.poll.Store(int64(poll))
}

// Streams is how many streams are open.
func Streams(s *Service) int { return s.hub.count() }

package notify

import (
	"crypto/x509"
	"time"
)

// SetStreamTimings shortens the heartbeat and the fallback poll for tests, which
// must not wait 25 s for a session re-check. Streams opened afterwards use them.
func SetStreamTimings(s *Service, heartbeat, poll time.Duration) {
	s.heartbeat.Store(int64(heartbeat))
	s.poll.Store(int64(poll))
}

// Streams is how many streams are open.
func Streams(s *Service) int { return s.hub.count() }

// PauseDelivery stops the delivery worker's own runs: the test calls DeliverDue
// when it wants the queue worked.
func PauseDelivery(s *Service) { s.paused.Store(true) }

// AllowAnyHost lets robot URLs point at a local test server instead of the
// vendors' hosts.
func AllowAnyHost(s *Service) { s.anyHost.Store(true) }

// TrustRoots makes the e-mail client check servers against pool (a test's
// self-signed certificate) instead of the system's CAs.
func TrustRoots(s *Service, pool *x509.CertPool) { s.tlsRoots.Store(pool) }

// RobotRequest is the URL and JSON body a robot of the type gets.
func RobotRequest(typ, url, secret, text string, mentions []string, now time.Time) (string, []byte, error) {
	p, err := robotRequest(typ, url, secret, text, mentions, now)
	return p.URL, p.Body, err
}

// RobotReply checks a robot's answer.
func RobotReply(typ string, status int, body []byte) error {
	_, err := robotReply(typ, status, body)
	return err
}

// Backoff is the wait after each failed attempt.
var Backoff = backoff

package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
	"dealerdesk/app/jobs"
	"dealerdesk/app/pii"
)

// Service signs people in and out and resolves sessions and API keys to actors.
type Service struct {
	db    *db.DB
	clock clock.Clock
	log   *slog.Logger
}

// NewService returns the auth service.
func NewService(d *db.DB, c clock.Clock, log *slog.Logger) *Service {
	return &Service{db: d, clock: c, log: log}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// Who returns the audit identity of the actor.
func (a Actor) Who() audit.Who {
	name := a.Username
	if a.Name != "" && a.Name != a.Username {
		name = a.Name + " (" + a.Username + ")"
	}
	return audit.Who{UserID: a.UserID, UserName: name, APIKeyID: a.APIKeyID, IP: a.IP, RequestID: a.RequestID, StoreID: a.StoreID}
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// HashToken returns the SHA-256 of a session token, as stored.
func HashToken(t string) []byte { return hashToken(t) }

// ---- actors ----

// loadActor builds the actor of a user from the database. storeID is the store the
// session works in (0: the user's home store).
func (s *Service) loadActor(ctx context.Context, q db.Querier, userID, storeID int64) (Actor, string, error) {
	var a Actor
	var status string
	var dept sql.NullInt64
	var mustChange int64
	err := q.QueryRowContext(ctx, `SELECT u.id, u.username, u.name, u.role_id, r.code, r.scope, u.store_id, u.department_id, u.locale, u.status, u.must_change_password
		FROM app_user u JOIN role r ON r.id = u.role_id WHERE u.id = ?`, userID).
		Scan(&a.UserID, &a.Username, &a.Name, &a.RoleID, &a.RoleCode, &a.Scope, &a.HomeStoreID, &dept, &a.Locale, &status, &mustChange)
	if err != nil {
		return a, "", fmt.Errorf("auth: load user %d: %w", userID, err)
	}
	a.DepartmentID = dept.Int64
	a.MustChangePW = mustChange == 1
	a.StoreID = a.HomeStoreID
	if storeID != 0 && a.Scope == ScopeGroup {
		a.StoreID = storeID
	}
	perms, err := loadPerms(ctx, q, a.RoleID)
	if err != nil {
		return a, "", err
	}
	a.Perms = perms
	return a, status, nil
}

func loadPerms(ctx context.Context, q db.Querier, roleID int64) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT permission FROM role_permission WHERE role_id = ?`, roleID)
	if err != nil {
		return nil, fmt.Errorf("auth: load permissions: %w", err)
	}
	defer rows.Close()
	perms := map[string]bool{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		perms[p] = true
	}
	return perms, rows.Err()
}

// ---- sessions ----

// Session is a signed-in browser.
type Session struct {
	Token string // only known right after creation
	Actor Actor
}

// CreateSession starts a session for the user inside tx and returns its token.
func (s *Service) CreateSession(ctx context.Context, q db.Querier, userID, storeID int64, ip, ua string) (string, error) {
	sec, err := s.Security(ctx)
	if err != nil {
		return "", err
	}
	tok := randomToken(32)
	now := s.now()
	exp := now + int64(sec.SessionAbsoluteHours)*int64(time.Hour/time.Millisecond)
	if len(ua) > 300 {
		ua = ua[:300]
	}
	_, err = q.ExecContext(ctx, `INSERT INTO session(token_hash, user_id, store_id, created_at, last_seen_at, expires_at, reauth_at, ip, user_agent) VALUES (?,?,?,?,?,?,?,?,?)`,
		hashToken(tok), userID, storeID, now, now, exp, now, ip, ua)
	if err != nil {
		return "", fmt.Errorf("auth: create session: %w", err)
	}
	return tok, nil
}

// ResolveSession returns the actor of a session token, or Unauthenticated when the
// token is unknown, idle too long, past its lifetime, or its user is disabled.
func (s *Service) ResolveSession(ctx context.Context, token string) (Actor, error) {
	if token == "" || len(token) > 100 {
		return Actor{}, apperr.New(apperr.Unauthenticated, "unauthenticated")
	}
	h := hashToken(token)
	var userID, storeID, lastSeen, expires, reauth int64
	err := s.db.R.QueryRowContext(ctx, `SELECT user_id, store_id, last_seen_at, expires_at, reauth_at FROM session WHERE token_hash = ?`, h).
		Scan(&userID, &storeID, &lastSeen, &expires, &reauth)
	if errors.Is(err, sql.ErrNoRows) {
		return Actor{}, apperr.New(apperr.Unauthenticated, "unauthenticated")
	}
	if err != nil {
		return Actor{}, fmt.Errorf("auth: resolve session: %w", err)
	}
	sec, err := s.Security(ctx)
	if err != nil {
		return Actor{}, err
	}
	now := s.now()
	idle := int64(sec.SessionIdleMinutes) * int64(time.Minute/time.Millisecond)
	if now >= expires || now-lastSeen >= idle {
		if _, err := s.db.W.ExecContext(ctx, `DELETE FROM session WHERE token_hash = ?`, h); err != nil {
			s.log.Warn("delete expired session", "err", err)
		}
		return Actor{}, apperr.New(apperr.Unauthenticated, "auth.session_expired")
	}
	a, status, err := s.loadActor(ctx, s.db.R, userID, storeID)
	if err != nil {
		return Actor{}, err
	}
	if status != "active" {
		return Actor{}, apperr.New(apperr.Unauthenticated, "auth.disabled")
	}
	a.SessionHash = h
	a.ReauthAt = time.UnixMilli(reauth)
	// Touch at most once a minute: a write per request would serialise readers
	// behind the single writer for nothing.
	if now-lastSeen > int64(time.Minute/time.Millisecond) {
		if _, err := s.db.W.ExecContext(ctx, `UPDATE session SET last_seen_at = ? WHERE token_hash = ?`, now, h); err != nil {
			s.log.Warn("touch session", "err", err)
		}
	}
	return a, nil
}

// EndSession deletes one session.
func (s *Service) EndSession(ctx context.Context, a Actor) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM session WHERE token_hash = ?`, a.SessionHash); err != nil {
			return fmt.Errorf("auth: end session: %w", err)
		}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: s.now(), Action: "logout", Entity: "user", EntityID: strconv.FormatInt(a.UserID, 10)})
	})
}

// EndAllSessions deletes every session of the actor's user.
func (s *Service) EndAllSessions(ctx context.Context, a Actor) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := EndUserSessions(ctx, tx, a.UserID, nil); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: s.now(), Action: "logout_all", Entity: "user", EntityID: strconv.FormatInt(a.UserID, 10)})
	})
}

// EndUserSessions deletes the user's sessions, except the one with hash keep.
func EndUserSessions(ctx context.Context, q db.Querier, userID int64, keep []byte) error {
	var err error
	if keep != nil {
		_, err = q.ExecContext(ctx, `DELETE FROM session WHERE user_id = ? AND token_hash <> ?`, userID, keep)
	} else {
		_, err = q.ExecContext(ctx, `DELETE FROM session WHERE user_id = ?`, userID)
	}
	if err != nil {
		return fmt.Errorf("auth: end sessions of user %d: %w", userID, err)
	}
	return nil
}

// SwitchStore moves a group-scope session to another store.
func (s *Service) SwitchStore(ctx context.Context, a Actor, storeID int64) error {
	if a.Scope != ScopeGroup || a.SessionHash == nil {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM store WHERE id = ?`, storeID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.Field("storeId", "store.invalid")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE session SET store_id = ? WHERE token_hash = ?`, storeID, a.SessionHash); err != nil {
			return fmt.Errorf("auth: switch store: %w", err)
		}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: s.now(), Action: "switch_store", Entity: "store",
			EntityID: strconv.FormatInt(storeID, 10), Before: map[string]int64{"storeId": a.StoreID}, After: map[string]int64{"storeId": storeID}})
	})
}

// ---- sign-in ----

// LoginInput is a sign-in attempt.
type LoginInput struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// LoginResult is a successful sign-in.
type LoginResult struct {
	Token string
	Actor Actor
}

// Login checks the credentials, applies the lock-out, and starts a session.
// ip and ua describe the client; reqID ties the audit row to the request.
func (s *Service) Login(ctx context.Context, in LoginInput, ip, ua, reqID string) (LoginResult, error) {
	login := strings.TrimSpace(in.Login)
	f := apperr.Fields{}
	if login == "" {
		f.Add("login", "required")
	}
	if in.Password == "" {
		f.Add("password", "required")
	}
	if len(login) > 100 {
		f.Add("login", "too_long", "max", 100)
	}
	if err := f.Err(); err != nil {
		return LoginResult{}, err
	}
	sec, err := s.Security(ctx)
	if err != nil {
		return LoginResult{}, err
	}
	// Find the account by username or normalized phone.
	var userID int64
	var hash, status, username string
	phone, _ := pii.NormalizeMobile(login)
	err = s.db.R.QueryRowContext(ctx, `SELECT id, password_hash, status, username FROM app_user WHERE username = ? OR (phone IS NOT NULL AND phone = ?) ORDER BY username = ? DESC LIMIT 1`,
		login, phone, login).Scan(&userID, &hash, &status, &username)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return LoginResult{}, fmt.Errorf("auth: find user: %w", err)
	}
	acctKey := "u:" + strings.ToLower(login)
	if found {
		acctKey = "u:" + strconv.FormatInt(userID, 10)
	}
	ipKey := "ip:" + ip
	now := s.now()
	if wait, err := s.lockedFor(ctx, now, acctKey, ipKey); err != nil {
		return LoginResult{}, err
	} else if wait > 0 {
		s.auditFailure(ctx, userID, login, ip, reqID, "locked")
		e := apperr.New(apperr.TooMany, "auth.locked")
		e.Details = map[string]any{"retryAfterSeconds": int64((wait + 999) / 1000)}
		return LoginResult{}, e
	}
	ok := false
	if found {
		ok = CheckPassword(in.Password, hash)
	} else {
		CheckPassword(in.Password, dummyHash())
	}
	if !ok {
		if err := s.recordFailure(ctx, now, sec, acctKey, sec.LockoutThreshold); err != nil {
			return LoginResult{}, err
		}
		if err := s.recordFailure(ctx, now, sec, ipKey, sec.LockoutThreshold*4); err != nil {
			return LoginResult{}, err
		}
		s.auditFailure(ctx, userID, login, ip, reqID, "bad_credentials")
		// The failure that reaches the threshold says so at once, rather than
		// inviting one more try that is then refused.
		if wait, err := s.lockedFor(ctx, now, acctKey, ipKey); err == nil && wait > 0 {
			e := apperr.New(apperr.TooMany, "auth.locked")
			e.Details = map[string]any{"retryAfterSeconds": int64((wait + 999) / 1000)}
			return LoginResult{}, e
		}
		return LoginResult{}, apperr.New(apperr.Unauthenticated, "auth.bad_credentials")
	}
	if status != "active" {
		s.auditFailure(ctx, userID, login, ip, reqID, "disabled")
		return LoginResult{}, apperr.New(apperr.Unauthenticated, "auth.disabled")
	}
	var res LoginResult
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = ?`, acctKey); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE app_user SET last_login_at = ? WHERE id = ?`, now, userID); err != nil {
			return err
		}
		a, _, err := s.loadActor(ctx, tx, userID, 0)
		if err != nil {
			return err
		}
		tok, err := s.CreateSession(ctx, tx, userID, a.HomeStoreID, ip, ua)
		if err != nil {
			return err
		}
		a.IP, a.RequestID, a.SessionHash, a.ReauthAt = ip, reqID, hashToken(tok), s.clock.Now()
		res = LoginResult{Token: tok, Actor: a}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: now, Action: "login", Entity: "user", EntityID: strconv.FormatInt(userID, 10)})
	})
	return res, err
}

func (s *Service) lockedFor(ctx context.Context, now int64, keys ...string) (int64, error) {
	var wait int64
	for _, k := range keys {
		var until int64
		err := s.db.R.QueryRowContext(ctx, `SELECT locked_until FROM login_throttle WHERE key = ?`, k).Scan(&until)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("auth: read throttle: %w", err)
		}
		if until > now && until-now > wait {
			wait = until - now
		}
	}
	return wait, nil
}

// recordFailure counts a failure for key within a one-hour window and, from the
// threshold on, locks the key for LockoutMinutes, doubling with each further
// failure up to 24 hours.
func (s *Service) recordFailure(ctx context.Context, now int64, sec SecuritySettings, key string, threshold int) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var failures, first int64
		err := tx.QueryRowContext(ctx, `SELECT failures, first_failure_at FROM login_throttle WHERE key = ?`, key).Scan(&failures, &first)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && now-first > int64(time.Hour/time.Millisecond) && failures < int64(threshold)) {
			failures, first = 0, now
		} else if err != nil {
			return fmt.Errorf("auth: read throttle: %w", err)
		}
		failures++
		var until int64
		if failures >= int64(threshold) {
			mult := int64(1) << min(failures-int64(threshold), 10)
			lock := min(int64(sec.LockoutMinutes)*mult*int64(time.Minute/time.Millisecond), int64(24*time.Hour/time.Millisecond))
			until = now + lock
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO login_throttle(key, failures, first_failure_at, last_failure_at, locked_until) VALUES (?,?,?,?,?)
			ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, first_failure_at = excluded.first_failure_at, last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until`,
			key, failures, first, now, until)
		return err
	})
}

func (s *Service) auditFailure(ctx context.Context, userID int64, login, ip, reqID, reason string) {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return audit.Write(ctx, tx, audit.Entry{Who: audit.Who{IP: ip, RequestID: reqID, UserName: pii.MaskLogin(login)}, At: s.now(),
			Action: "login_failed", Entity: "user", EntityID: idOrEmpty(userID), Result: reason})
	})
	if err != nil {
		s.log.Error("audit failed sign-in", "err", err)
	}
}

func idOrEmpty(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// Unlock clears the lock-out of a user's account.
func Unlock(ctx context.Context, q db.Querier, userID int64) error {
	_, err := q.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = ?`, "u:"+strconv.FormatInt(userID, 10))
	return err
}

// ---- re-authentication ----

// Reauth checks the password again and stamps the session, so sensitive actions
// (revealing personal data, exports) are allowed for the next few minutes.
func (s *Service) Reauth(ctx context.Context, a Actor, password string) error {
	if a.SessionHash == nil {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	var hash string
	if err := s.db.R.QueryRowContext(ctx, `SELECT password_hash FROM app_user WHERE id = ?`, a.UserID).Scan(&hash); err != nil {
		return fmt.Errorf("auth: reauth: %w", err)
	}
	if !CheckPassword(password, hash) {
		s.auditFailure(ctx, a.UserID, a.Username, a.IP, a.RequestID, "reauth_failed")
		return apperr.Field("password", "password.wrong")
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE session SET reauth_at = ? WHERE token_hash = ?`, s.now(), a.SessionHash); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: s.now(), Action: "reauth", Entity: "user", EntityID: strconv.FormatInt(a.UserID, 10)})
	})
}

// RequireRecentAuth returns 403 reauth_required unless the actor entered the
// password within the configured minutes. API keys are exempt only if their role
// allows the action at all (they cannot type a password).
func (s *Service) RequireRecentAuth(ctx context.Context, a Actor) error {
	if a.APIKeyID != 0 {
		return nil
	}
	sec, err := s.Security(ctx)
	if err != nil {
		return err
	}
	if s.clock.Now().Sub(a.ReauthAt) > time.Duration(sec.ReauthMinutes)*time.Minute {
		return apperr.New(apperr.Forbidden, "reauth_required")
	}
	return nil
}

// ChangePasswordInput changes the signed-in user's own password.
type ChangePasswordInput struct {
	OldPassword string `json:"oldPassword"`
	NewPassword string `json:"newPassword"`
}

// ChangePassword replaces the actor's password and ends their other sessions.
func (s *Service) ChangePassword(ctx context.Context, a Actor, in ChangePasswordInput) error {
	if a.UserID == 0 {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	sec, err := s.Security(ctx)
	if err != nil {
		return err
	}
	if in.OldPassword == "" {
		return apperr.Field("oldPassword", "required")
	}
	if err := ValidatePassword("newPassword", in.NewPassword, a.Username, sec); err != nil {
		return err
	}
	var hash string
	if err := s.db.R.QueryRowContext(ctx, `SELECT password_hash FROM app_user WHERE id = ?`, a.UserID).Scan(&hash); err != nil {
		return fmt.Errorf("auth: change password: %w", err)
	}
	if !CheckPassword(in.OldPassword, hash) {
		s.auditFailure(ctx, a.UserID, a.Username, a.IP, a.RequestID, "password_change_failed")
		return apperr.Field("oldPassword", "password.wrong")
	}
	if in.OldPassword == in.NewPassword {
		return apperr.Field("newPassword", "password.same_as_old")
	}
	nh, err := HashPassword(in.NewPassword)
	if err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE app_user SET password_hash = ?, must_change_password = 0, password_changed_at = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			nh, s.now(), s.now(), a.UserID); err != nil {
			return fmt.Errorf("auth: change password: %w", err)
		}
		if err := EndUserSessions(ctx, tx, a.UserID, a.SessionHash); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: s.now(), Action: "password_change", Entity: "user", EntityID: strconv.FormatInt(a.UserID, 10)})
	})
}

// PurgeExpired deletes sessions past their lifetime or idle timeout and sign-in
// failure counters that are no longer locking anything. It returns how many rows
// went.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	sec, err := s.Security(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	idle := int64(sec.SessionIdleMinutes) * int64(time.Minute/time.Millisecond)
	var n int64
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		r1, err := tx.ExecContext(ctx, `DELETE FROM session WHERE expires_at <= ? OR last_seen_at <= ?`, now, now-idle)
		if err != nil {
			return fmt.Errorf("auth: purge sessions: %w", err)
		}
		r2, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE locked_until < ? AND last_failure_at < ?`, now, now-int64(24*time.Hour/time.Millisecond))
		if err != nil {
			return fmt.Errorf("auth: purge throttle: %w", err)
		}
		a, _ := r1.RowsAffected()
		b, _ := r2.RowsAffected()
		n = a + b
		return nil
	})
	return n, err
}

// Jobs are the auth service's scheduled work.
func (s *Service) Jobs() []jobs.Job {
	return []jobs.Job{{Name: "auth.purge_expired", Every: 15 * time.Minute, Run: func(ctx context.Context) error {
		_, err := s.PurgeExpired(ctx)
		return err
	}}}
}

// ActorOf loads a user as an actor, for work done in a user's name outside a
// request (demo data, console commands).
func ActorOf(ctx context.Context, q db.Querier, userID int64) (Actor, error) {
	var s Service
	a, _, err := s.loadActor(ctx, q, userID, 0)
	return a, err
}

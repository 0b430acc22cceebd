package system

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/api"
	"dealerdesk/app/apperr"
	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
	"dealerdesk/app/org"
	"dealerdesk/app/pii"
)

// Service runs setup, health and system settings.
type Service struct {
	db        *db.DB
	auth      *auth.Service
	org       *org.Service
	clock     clock.Clock
	log       *slog.Logger
	version   string
	tokenPath string // <data>/setup-token
}

// NewService returns the system service. tokenPath is where the one-time setup
// token is kept while setup is needed.
func NewService(d *db.DB, a *auth.Service, o *org.Service, c clock.Clock, log *slog.Logger, version, tokenPath string) *Service {
	return &Service{db: d, auth: a, org: o, clock: c, log: log, version: version, tokenPath: tokenPath}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// SetupNeeded reports whether no user exists yet.
func (s *Service) SetupNeeded(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM app_user`).Scan(&n); err != nil {
		return false, fmt.Errorf("system: count users: %w", err)
	}
	return n == 0, nil
}

// EnsureSetupToken writes a fresh one-time token to the data dir when setup is
// needed and returns it ("" when setup is done).
func (s *Service) EnsureSetupToken(ctx context.Context) (string, error) {
	need, err := s.SetupNeeded(ctx)
	if err != nil || !need {
		return "", err
	}
	if b, err := os.ReadFile(s.tokenPath); err == nil && len(strings.TrimSpace(string(b))) >= 20 {
		return strings.TrimSpace(string(b)), nil
	}
	tok, _, _ := auth.NewAPIKey()
	tok = strings.TrimPrefix(tok, auth.APIKeyPrefix)[:24]
	if err := os.WriteFile(s.tokenPath, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("system: write setup token: %w", err)
	}
	return tok, nil
}

func (s *Service) tokenOK(given string) bool {
	b, err := os.ReadFile(s.tokenPath)
	want := strings.TrimSpace(string(b))
	if err != nil || len(want) < 20 || given == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.TrimSpace(given))) == 1
}

// SetupInput creates the group, its first store and the administrator.
type SetupInput struct {
	Token         string `json:"token"`
	GroupName     string `json:"groupName"`
	StoreName     string `json:"storeName"`
	StoreCode     string `json:"storeCode"`
	AdminUsername string `json:"adminUsername"`
	AdminName     string `json:"adminName"`
	AdminPhone    string `json:"adminPhone"`
	Password      string `json:"password"`
}

// DefaultDepartments are created with every new store by setup and demo.
var DefaultDepartments = []org.DepartmentInput{
	{Name: "总经办", Kind: "management"}, {Name: "销售部", Kind: "sales"}, {Name: "DCC", Kind: "dcc"},
	{Name: "售后服务部", Kind: "service"}, {Name: "配件部", Kind: "parts"}, {Name: "财务部", Kind: "finance"},
	{Name: "行政人事部", Kind: "admin"}, {Name: "市场部", Kind: "marketing"},
}

// Setup runs the first-run setup. local says the request comes from the machine
// itself; otherwise the token must match. It returns the new admin's session.
func (s *Service) Setup(ctx context.Context, in SetupInput, local bool, ip, ua, reqID string) (auth.LoginResult, error) {
	need, err := s.SetupNeeded(ctx)
	if err != nil {
		return auth.LoginResult{}, err
	}
	if !need {
		return auth.LoginResult{}, apperr.New(apperr.NotFound, "setup.done")
	}
	if !local && !s.tokenOK(in.Token) {
		return auth.LoginResult{}, apperr.Field("token", "setup.token")
	}
	f := apperr.Fields{}
	in.GroupName = strings.TrimSpace(in.GroupName)
	if in.GroupName == "" {
		f.Add("groupName", "required")
	} else if len([]rune(in.GroupName)) > 60 {
		f.Add("groupName", "too_long", "max", 60)
	}
	store := org.StoreInput{Code: in.StoreCode, Name: in.StoreName}
	store.Normalize()
	if err := store.Validate(); err != nil {
		for k, v := range apperr.As(err).Fields {
			f["store"+strings.ToUpper(k[:1])+k[1:]] = v
		}
	}
	user := org.UserInput{Username: in.AdminUsername, Name: in.AdminName, Phone: in.AdminPhone, Password: in.Password, RoleID: 1, StoreID: 1}
	user.Normalize()
	if err := user.Validate(true); err != nil {
		for k, v := range apperr.As(err).Fields {
			if k == "password" {
				f[k] = v
				continue
			}
			f["admin"+strings.ToUpper(k[:1])+k[1:]] = v
		}
	}
	if err := f.Err(); err != nil {
		return auth.LoginResult{}, err
	}
	sec, err := s.auth.Security(ctx)
	if err != nil {
		return auth.LoginResult{}, err
	}
	if err := auth.ValidatePassword("password", in.Password, user.Username, sec); err != nil {
		return auth.LoginResult{}, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return auth.LoginResult{}, err
	}
	now := s.now()
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM app_user`).Scan(&n); err != nil {
			return err
		}
		if n > 0 { // another setup won the race
			return apperr.New(apperr.NotFound, "setup.done")
		}
		if err := CreateGroupTx(ctx, tx, in.GroupName, now); err != nil {
			return err
		}
		st, err := org.CreateStoreTx(ctx, tx, store, now)
		if err != nil {
			return err
		}
		for _, d := range DefaultDepartments {
			d.StoreID = st.ID
			if _, err := org.CreateDepartmentTx(ctx, tx, d, now); err != nil {
				return err
			}
		}
		adminRole, err := org.RoleIDByCode(ctx, tx, auth.RoleAdmin)
		if err != nil {
			return err
		}
		user.RoleID, user.StoreID = adminRole, st.ID
		id, err := org.CreateUserTx(ctx, tx, user, hash, false, now)
		if err != nil {
			if fe := apperr.As(err); fe.Kind == apperr.Invalid {
				renamed := apperr.Fields{}
				for k, v := range fe.Fields {
					renamed["admin"+strings.ToUpper(k[:1])+k[1:]] = v
				}
				return renamed.Err()
			}
			return err
		}
		who := audit.Who{UserID: id, UserName: user.Name + " (" + user.Username + ")", IP: ip, RequestID: reqID, StoreID: st.ID}
		return audit.Write(ctx, tx, audit.Entry{Who: who, At: now, Action: "setup", Entity: "group", EntityID: "1",
			After: map[string]any{"groupName": in.GroupName, "store": st.Code, "admin": user.Username, "phone": pii.MaskPhone(user.Phone)}})
	})
	if err != nil {
		return auth.LoginResult{}, err
	}
	if err := os.Remove(s.tokenPath); err != nil && !os.IsNotExist(err) {
		s.log.Warn("remove setup token", "err", err)
	}
	s.log.Info("setup done", "store", store.Code, "admin", user.Username)
	return s.auth.Login(ctx, auth.LoginInput{Login: user.Username, Password: in.Password}, ip, ua, reqID)
}

// CreateGroupTx creates the one group row.
func CreateGroupTx(ctx context.Context, q db.Querier, name string, now int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO org_group(id, name, created_at, updated_at) VALUES (1, ?, ?, ?)`, name, now, now)
	if db.IsUnique(err) {
		return apperr.New(apperr.NotFound, "setup.done")
	}
	return err
}

// UpdateSecurity saves the security settings.
func (s *Service) UpdateSecurity(ctx context.Context, a auth.Actor, in auth.SecuritySettings) (auth.SecuritySettings, error) {
	if err := in.Validate(); err != nil {
		return in, err
	}
	if err := auth.Require(a, auth.PermSettingsManage); err != nil {
		return in, err
	}
	if a.Scope != auth.ScopeGroup {
		return in, apperr.New(apperr.Forbidden, "forbidden")
	}
	old, err := s.auth.Security(ctx)
	if err != nil {
		return in, err
	}
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := db.SaveSetting(ctx, tx, "security", 0, in, a.UserID, s.now()); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Who: a.Who(), At: s.now(), Action: "update", Entity: "setting", EntityID: "security", Before: old, After: in})
	})
	return in, err
}

// AuditFilter selects audit rows.
type AuditFilter struct {
	Action   string
	Entity   string
	EntityID string
	UserID   int64
	StoreID  int64
	From, To int64 // unix ms, inclusive / exclusive
	Cursor   string
	Limit    int
}

// ListAudit pages through the audit log newest first, within the actor's scope.
func (s *Service) ListAudit(ctx context.Context, a auth.Actor, f AuditFilter) (api.List[audit.Row], error) {
	if err := auth.Require(a, auth.PermAuditRead); err != nil {
		return api.List[audit.Row]{}, err
	}
	cur, err := api.ParseCursor(f.Cursor)
	if err != nil {
		return api.List[audit.Row]{}, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	qb := sq.Select(auditColumns).From("audit_log").
		Where(auth.Filter(a, auth.PermAuditRead, auth.Columns{Store: "store_id", Owner: "user_id"})).
		OrderBy("id DESC").Limit(uint64(f.Limit + 1))
	if cur.ID > 0 {
		qb = qb.Where(sq.Lt{"id": cur.ID})
	}
	if f.Action != "" {
		qb = qb.Where(sq.Eq{"action": f.Action})
	}
	if f.Entity != "" {
		qb = qb.Where(sq.Eq{"entity": f.Entity})
		if f.EntityID != "" {
			qb = qb.Where(sq.Eq{"entity_id": f.EntityID})
		}
	}
	if f.UserID != 0 {
		qb = qb.Where(sq.Eq{"user_id": f.UserID})
	}
	if f.StoreID != 0 {
		qb = qb.Where(sq.Eq{"store_id": f.StoreID})
	}
	// at rises with id (audit.Write keeps it so), so a time range becomes an id
	// range found by two seeks on audit_log_at, and the newest-first id order can
	// still walk the primary key instead of sorting every row of the range.
	if f.From != 0 {
		qb = qb.Where(sq.GtOrEq{"at": f.From}).
			Where(sq.Expr("id >= coalesce((SELECT id FROM audit_log WHERE at >= ? ORDER BY at, id LIMIT 1), 9223372036854775807)", f.From))
	}
	if f.To != 0 {
		qb = qb.Where(sq.Lt{"at": f.To}).
			Where(sq.Expr("id <= coalesce((SELECT id FROM audit_log WHERE at < ? ORDER BY at DESC, id DESC LIMIT 1), 0)", f.To))
	}
	q, args, err := qb.ToSql()
	if err != nil {
		return api.List[audit.Row]{}, err
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return api.List[audit.Row]{}, fmt.Errorf("system: list audit: %w", err)
	}
	defer rows.Close()
	out := api.List[audit.Row]{Items: []audit.Row{}}
	for rows.Next() {
		r, err := audit.Scan(rows)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, r)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	if len(out.Items) > f.Limit {
		out.Items = out.Items[:f.Limit]
		out.Next = api.Cursor{ID: out.Items[f.Limit-1].ID}.Encode()
	}
	return out, nil
}

const auditColumns = audit.Columns

// VerifyAudit checks the hash chain.
func (s *Service) VerifyAudit(ctx context.Context, a auth.Actor) (audit.VerifyResult, error) {
	if err := auth.Require(a, auth.PermAuditRead); err != nil {
		return audit.VerifyResult{}, err
	}
	if a.Scope != auth.ScopeGroup {
		return audit.VerifyResult{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	return audit.Verify(ctx, s.db.R)
}

// Health is the health endpoint's answer.
type Health struct {
	Status        string `json:"status"`
	Version       string `json:"version"`
	SchemaVersion int64  `json:"schemaVersion"`
	Time          int64  `json:"time"`
}

// Health checks the database answers.
func (s *Service) Health(ctx context.Context) (Health, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, err := s.db.SchemaVersion(ctx)
	if err != nil {
		return Health{Status: "error"}, err
	}
	return Health{Status: "ok", Version: s.version, SchemaVersion: v, Time: s.now()}, nil
}

func parseMillis(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

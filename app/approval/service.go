package approval

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"

	"dealerdesk/app/audit"
	"dealerdesk/app/auth"
	"dealerdesk/app/clock"
	"dealerdesk/app/db"
	"dealerdesk/app/jobs"
	"dealerdesk/app/notify"
)

// Message is one notification to one user (kinds approval.pending,
// approval.reminder, approval.decided, approval.commented; title keys under
// notify.msg).
type Message = notify.Message

// Notifier delivers notifications (the notify service): Send writes them inside
// the caller's transaction, Wake tells the sender to look for new ones after the
// commit.
type Notifier interface {
	Send(ctx context.Context, q db.Querier, msgs ...Message) (int, error)
	Wake()
}

// Doc is what the engine needs to know of a document.
type Doc struct {
	StoreID      int64
	OwnerID      int64 // the responsible user (e.g. the customer's consultant); 0 when none
	DepartmentID int64 // the owner's team; 0 to use the owner's department
	CustomerID   int64 // the customer whose timeline shows the approval; 0 when none
	Title        string
	Link         string         // SPA path of the document, e.g. /customers/12
	Fields       map[string]any // what routing rules look at (reason, discountFen, marginPct …)
}

// Outcome is how an approval ended.
type Outcome string

// The outcomes handed to DocType.Decided.
const (
	Approved  Outcome = "approved"
	Rejected  Outcome = "rejected"
	Returned  Outcome = "returned" // sent back: the submitter may change the document and submit again
	Withdrawn Outcome = "withdrawn"
)

// FieldInfo describes one of a document type's Fields for the rule editor.
type FieldInfo struct {
	Key     string   `json:"key"`
	Type    string   `json:"type"`              // number | money (integer fen) | percent (integer basis points) | text | enum
	Options []string `json:"options,omitempty"` // the values of an enum
	Label   string   `json:"label,omitempty"`   // i18n key of the field's name; the UI shows Key without one
	// OptionLabel is the i18n key prefix of an enum's option names
	// (<OptionLabel>.<option>); the UI shows the option itself without one.
	OptionLabel string `json:"optionLabel,omitempty"`
	// Perm, when set, is the permission a reader needs to see the field's value
	// (cost.read for a deal's gross profit or margin). Routing rules still use
	// it; instances shown to a reader without it leave the field out.
	Perm string `json:"perm,omitempty"`
}

// The field types.
const (
	FieldNumber = "number"
	FieldMoney  = "money"
	// FieldPercent is a share in integer basis points (873 = 8.73 %); the UI
	// shows and takes it as a percentage.
	FieldPercent = "percent"
	FieldText    = "text"
	FieldEnum    = "enum"
)

// DocType is a kind of document that goes through approvals. Domains register
// theirs at start-up (Service.Register).
type DocType struct {
	Type     string // e.g. "crm.lost"; the UI names it approval.docType.<Type>
	ReadPerm string // who may see the document; an instance is visible to its approvers, its submitter and holders of ReadPerm in scope of the document
	// Describe reads the document (inside the submit transaction).
	Describe func(ctx context.Context, q db.Querier, docID int64) (Doc, error)
	// Decided runs inside the transaction that ends the approval; the document
	// applies the result (e.g. marks the customer lost). An error rolls the
	// decision back.
	Decided    func(ctx context.Context, tx *sql.Tx, inst Instance, outcome Outcome, by auth.Actor) error
	Default    []Step      // used when no definition of the store matches, so the product works out of the box
	FieldsInfo []FieldInfo // the Fields routing rules may look at
}

// Service is the approval engine.
type Service struct {
	db    *db.DB
	clock clock.Clock
	log   *slog.Logger

	mu       sync.RWMutex // guards types and notifier (registration happens at start-up)
	types    map[string]DocType
	notifier Notifier
}

// NewService returns the engine. n may be nil until the notify service is wired
// (see UseNotifier); then no notifications are sent.
func NewService(d *db.DB, n Notifier, c clock.Clock, log *slog.Logger) *Service {
	return &Service{db: d, clock: c, log: log, types: map[string]DocType{}, notifier: n}
}

// UseNotifier replaces the notifier (for wiring orders where the notify service
// is built after the engine).
func (s *Service) UseNotifier(n Notifier) {
	s.mu.Lock()
	s.notifier = n
	s.mu.Unlock()
}

// Register adds a document type. It panics on a duplicate or incomplete type: that
// is a wiring mistake found at start-up.
func (s *Service) Register(t DocType) {
	if t.Type == "" || t.Describe == nil || t.Decided == nil || t.ReadPerm == "" || len(t.Default) == 0 {
		panic(fmt.Sprintf("approval: doc type %q needs Type, ReadPerm, Describe, Decided and Default steps", t.Type))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.types[t.Type]; dup {
		panic("approval: doc type " + t.Type + " registered twice")
	}
	s.types[t.Type] = t
}

func (s *Service) docType(name string) (DocType, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.types[name]
	return t, ok
}

// DocTypeInfo is a registered document type as the rule editor sees it.
type DocTypeInfo struct {
	Type     string      `json:"type"`
	Fields   []FieldInfo `json:"fields"`
	Default  []Step      `json:"default"`
	ReadPerm string      `json:"readPerm"`
}

// DocTypes lists the registered document types, sorted by type.
func (s *Service) DocTypes() []DocTypeInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]DocTypeInfo, 0, len(s.types))
	for _, t := range s.types {
		f := t.FieldsInfo
		if f == nil {
			f = []FieldInfo{}
		}
		out = append(out, DocTypeInfo{Type: t.Type, Fields: f, Default: t.Default, ReadPerm: t.ReadPerm})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Wake tells the notifier to deliver what was written. Callers of Submit call it
// after their transaction commits (the engine cannot see that commit).
func (s *Service) Wake() {
	s.mu.RLock()
	n := s.notifier
	s.mu.RUnlock()
	if n != nil {
		n.Wake()
	}
}

// Emitter queues business events for outgoing webhooks (the notify service
// is one). A notifier that is also an Emitter hears of final decisions.
type Emitter interface {
	Emit(ctx context.Context, q db.Querier, ev notify.Event) error
}

// emit queues a webhook event inside the transaction q, when the notifier can.
func (s *Service) emit(ctx context.Context, q db.Querier, ev notify.Event) error {
	s.mu.RLock()
	n := s.notifier
	s.mu.RUnlock()
	e, ok := n.(Emitter)
	if !ok {
		return nil
	}
	if err := e.Emit(ctx, q, ev); err != nil {
		return fmt.Errorf("approval: emit %s: %w", ev.Type, err)
	}
	return nil
}

func (s *Service) send(ctx context.Context, q db.Querier, msgs []Message) error {
	s.mu.RLock()
	n := s.notifier
	s.mu.RUnlock()
	if n == nil || len(msgs) == 0 {
		return nil
	}
	if _, err := n.Send(ctx, q, msgs...); err != nil {
		return fmt.Errorf("approval: notify: %w", err)
	}
	return nil
}

// Jobs returns the reminder job.
func (s *Service) Jobs() []jobs.Job {
	return []jobs.Job{{Name: "approval reminders", Every: jobsEvery, Run: func(ctx context.Context) error {
		_, err := s.RemindDue(ctx)
		return err
	}}}
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

func (s *Service) audit(ctx context.Context, q db.Querier, a auth.Actor, action, entity string, id, storeID int64, before, after any) error {
	return audit.Write(ctx, q, audit.Entry{Who: a.Who(), At: s.now(), Action: action, Entity: entity,
		EntityID: strconv.FormatInt(id, 10), StoreID: storeID, Before: before, After: after})
}

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }

// nonZero returns nil for 0, else a pointer to v (JSON null for "none").
func nonZero(v sql.NullInt64) *int64 {
	if !v.Valid || v.Int64 == 0 {
		return nil
	}
	x := v.Int64
	return &x
}

// redact leaves out of an instance shown to a the fields its type reserves for
// a permission a lacks (see FieldInfo.Perm).
func (s *Service) redact(a auth.Actor, x *Instance) {
	t, ok := s.types[x.DocType]
	if !ok || len(x.Fields) == 0 {
		return
	}
	for _, fi := range t.FieldsInfo {
		if fi.Perm != "" && !a.Has(fi.Perm) {
			delete(x.Fields, fi.Key)
		}
	}
}

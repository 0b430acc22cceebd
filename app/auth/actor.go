package auth

import (
	"context"
	"time"

	sq "github.com/Masterminds/squirrel"

	"dealerdesk/app/apperr"
)

// Scope is the data scope of a role: which records its permissions reach.
type Scope string

// The data scopes, from narrowest to widest.
const (
	ScopeOwn   Scope = "own"   // records the user owns
	ScopeTeam  Scope = "team"  // records of the user's department/team (and own)
	ScopeStore Scope = "store" // records of the user's store
	ScopeGroup Scope = "group" // records of every store
)

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool {
	return s == ScopeOwn || s == ScopeTeam || s == ScopeStore || s == ScopeGroup
}

func (s Scope) rank() int {
	switch s {
	case ScopeOwn:
		return 1
	case ScopeTeam:
		return 2
	case ScopeStore:
		return 3
	case ScopeGroup:
		return 4
	}
	return 0
}

// Wider reports whether s reaches more records than o.
func (s Scope) Wider(o Scope) bool { return s.rank() > o.rank() }

// Actor is who performs a request: a signed-in user or an API key. Every service
// method takes one, so the permission check and the audit row cannot be forgotten.
type Actor struct {
	UserID       int64
	Username     string
	Name         string
	RoleID       int64
	RoleCode     string
	Scope        Scope
	Perms        map[string]bool
	StoreID      int64 // the store the actor works in now (group roles can switch)
	HomeStoreID  int64
	DepartmentID int64
	APIKeyID     int64
	Locale       string
	IP           string
	RequestID    string
	SessionHash  []byte
	ReauthAt     time.Time
	MustChangePW bool
}

// System is the actor for work the appliance does itself (migrations seed, jobs,
// console commands). It holds every permission at group scope.
func System(name string) Actor {
	p := map[string]bool{}
	for _, x := range Permissions {
		p[x.Code] = true
	}
	return Actor{Username: name, Name: name, Scope: ScopeGroup, Perms: p, RoleCode: RoleAdmin}
}

// Has reports whether the actor holds the permission (ignoring scope).
func (a Actor) Has(perm string) bool { return a.Perms[perm] }

// Record is what an access check needs to know of a business record.
type Record struct {
	StoreID      int64
	OwnerID      int64 // the responsible user; 0 when none
	DepartmentID int64 // the owner's team; 0 when none
}

// InScope reports whether the record lies within the actor's data scope.
func (a Actor) InScope(r Record) bool {
	switch a.Scope {
	case ScopeGroup:
		return true
	case ScopeStore:
		return r.StoreID == a.HomeStoreID
	case ScopeTeam:
		if r.OwnerID != 0 && r.OwnerID == a.UserID {
			return true
		}
		return a.DepartmentID != 0 && r.StoreID == a.HomeStoreID && r.DepartmentID == a.DepartmentID
	case ScopeOwn:
		return r.OwnerID != 0 && r.OwnerID == a.UserID
	}
	return false
}

// Can reports whether the actor may use perm on the record.
func Can(a Actor, perm string, r Record) bool {
	return a.Has(perm) && a.InScope(r)
}

// Check returns nil when the actor may use perm on the record; Forbidden when the
// permission is missing; NotFound when the record is outside the scope (its
// existence is not revealed).
func Check(a Actor, perm string, r Record) error {
	if !a.Has(perm) {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	if !a.InScope(r) {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return nil
}

// Require returns Forbidden unless the actor holds perm.
func Require(a Actor, perm string) error {
	if !a.Has(perm) {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return nil
}

// Columns name the columns of a table that Filter restricts.
type Columns struct {
	Store      string // e.g. "c.store_id"
	Owner      string // e.g. "c.owner_id"; empty when the table has no owner
	Department string // e.g. "c.department_id"; empty when none
}

// Filter returns the WHERE condition that limits a list query to the actor's data
// scope for perm. Every list query goes through it. Without the permission it
// matches nothing.
func Filter(a Actor, perm string, c Columns) sq.Sqlizer {
	if !a.Has(perm) {
		return sq.Expr("0")
	}
	switch a.Scope {
	case ScopeGroup:
		return sq.Expr("1")
	case ScopeStore:
		return sq.Eq{c.Store: a.HomeStoreID}
	case ScopeTeam:
		or := sq.Or{}
		if c.Owner != "" {
			or = append(or, sq.Eq{c.Owner: a.UserID})
		}
		if c.Department != "" && a.DepartmentID != 0 {
			or = append(or, sq.And{sq.Eq{c.Store: a.HomeStoreID}, sq.Eq{c.Department: a.DepartmentID}})
		}
		if len(or) == 0 {
			return sq.Expr("0")
		}
		return or
	case ScopeOwn:
		if c.Owner == "" {
			return sq.Expr("0")
		}
		return sq.Eq{c.Owner: a.UserID}
	}
	return sq.Expr("0")
}

type actorKey struct{}

// WithActor stores the actor in ctx.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// FromContext returns the actor stored in ctx.
func FromContext(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

func errUnauth(code string) error {
	return apperr.New(apperr.Unauthenticated, code)
}

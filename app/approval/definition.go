package approval

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"dealerdesk/app/apperr"
	"dealerdesk/app/auth"
	"dealerdesk/app/db"
)

// Step is one stage of an approval. Steps run one after the other.
type Step struct {
	Name      string     `json:"name"`
	Mode      string     `json:"mode"` // any: one approval completes the step; all: everyone must approve (parallel)
	Approvers []Approver `json:"approvers"`
}

// The step modes.
const (
	ModeAny = "any"
	ModeAll = "all"
)

// Approver says who approves a step.
type Approver struct {
	Kind   string `json:"kind"`             // role | user | owner_manager
	Role   string `json:"role,omitempty"`   // role code: the active users of that role in the document's store
	UserID int64  `json:"userId,omitempty"` // one user
}

// The approver kinds.
const (
	ApproverRole         = "role"
	ApproverUser         = "user"
	ApproverOwnerManager = "owner_manager" // the manager of the document owner's department (department.manager_id)
)

// Condition is one routing test on a document field; a definition applies when
// all its conditions hold. Money is compared in integer fen.
type Condition struct {
	Field string `json:"field"`
	Op    string `json:"op"` // eq ne gt gte lt lte in
	Value any    `json:"value"`
}

var ops = map[string]bool{"eq": true, "ne": true, "gt": true, "gte": true, "lt": true, "lte": true, "in": true}

// Definition is a routing rule: for a document type (of one store, or every
// store), when the conditions hold, these steps.
type Definition struct {
	ID         int64       `json:"id"`
	StoreID    *int64      `json:"storeId"` // null: every store of the group
	StoreName  string      `json:"storeName"`
	DocType    string      `json:"docType"`
	Name       string      `json:"name"`
	Priority   int         `json:"priority"` // smaller is tried first
	Enabled    bool        `json:"enabled"`
	Conditions []Condition `json:"conditions"`
	Steps      []Step      `json:"steps"`
	Version    int64       `json:"version"`
	UpdatedAt  int64       `json:"updatedAt"`
}

// DefinitionInput creates or edits a definition.
type DefinitionInput struct {
	StoreID    *int64      `json:"storeId"`
	DocType    string      `json:"docType"`
	Name       string      `json:"name"`
	Priority   int         `json:"priority"`
	Enabled    bool        `json:"enabled"`
	Conditions []Condition `json:"conditions"`
	Steps      []Step      `json:"steps"`
	Version    int64       `json:"version"` // the version read, on edit
}

// Normalize trims the texts and drops empty slices to empty (not nil) ones.
func (in *DefinitionInput) Normalize() {
	in.Name = strings.TrimSpace(in.Name)
	in.DocType = strings.TrimSpace(in.DocType)
	if in.StoreID != nil && *in.StoreID == 0 {
		in.StoreID = nil
	}
	if in.Conditions == nil {
		in.Conditions = []Condition{}
	}
	for i := range in.Conditions {
		in.Conditions[i].Field = strings.TrimSpace(in.Conditions[i].Field)
		if s, ok := in.Conditions[i].Value.(string); ok {
			in.Conditions[i].Value = strings.TrimSpace(s)
		}
	}
	for i := range in.Steps {
		in.Steps[i].Name = strings.TrimSpace(in.Steps[i].Name)
		for j := range in.Steps[i].Approvers {
			in.Steps[i].Approvers[j].Role = strings.TrimSpace(in.Steps[i].Approvers[j].Role)
		}
	}
}

// Limits of a definition.
const (
	maxConditions = 20
	maxSteps      = 10
	maxApprovers  = 20
)

// Validate checks the shape of the input against the document type's fields.
func (in *DefinitionInput) Validate(t DocType, known bool) error {
	f := apperr.Fields{}
	if in.DocType == "" {
		f.Add("docType", "required")
	} else if !known {
		f.Add("docType", "approval.unknown_doc_type")
	}
	checkText(f, "name", in.Name, 40)
	if in.Priority < 0 || in.Priority > 9999 {
		f.Add("priority", "out_of_range", "min", 0, "max", 9999)
	}
	if len(in.Conditions) > maxConditions {
		f.Add("conditions", "out_of_range", "min", 0, "max", maxConditions)
	}
	if known {
		for i, c := range in.Conditions {
			validateCondition(f, fmt.Sprintf("conditions.%d", i), c, t.FieldsInfo)
		}
	}
	validateSteps(f, "steps", in.Steps)
	return f.Err()
}

func checkText(f apperr.Fields, name, v string, max int) {
	switch {
	case v == "":
		f.Add(name, "required")
	case len([]rune(v)) > max:
		f.Add(name, "too_long", "max", max)
	}
}

// validateSteps checks the shape of steps; the roles and users are checked against
// the database by checkApprovers.
func validateSteps(f apperr.Fields, prefix string, steps []Step) {
	if len(steps) == 0 {
		f.Add(prefix, "approval.no_steps")
		return
	}
	if len(steps) > maxSteps {
		f.Add(prefix, "out_of_range", "min", 1, "max", maxSteps)
		return
	}
	for i, st := range steps {
		p := fmt.Sprintf("%s.%d", prefix, i)
		checkText(f, p+".name", st.Name, 40)
		if st.Mode != ModeAny && st.Mode != ModeAll {
			f.Add(p+".mode", "approval.bad_mode")
		}
		if len(st.Approvers) == 0 {
			f.Add(p+".approvers", "approval.no_approvers")
		} else if len(st.Approvers) > maxApprovers {
			f.Add(p+".approvers", "out_of_range", "min", 1, "max", maxApprovers)
		}
		for j, ap := range st.Approvers {
			q := fmt.Sprintf("%s.approvers.%d", p, j)
			switch ap.Kind {
			case ApproverRole:
				if ap.Role == "" {
					f.Add(q+".role", "required")
				}
			case ApproverUser:
				if ap.UserID <= 0 {
					f.Add(q+".userId", "required")
				}
			case ApproverOwnerManager:
			default:
				f.Add(q+".kind", "approval.bad_approver_kind")
			}
		}
	}
}

func fieldInfo(fields []FieldInfo, key string) (FieldInfo, bool) {
	for _, fi := range fields {
		if fi.Key == key {
			return fi, true
		}
	}
	return FieldInfo{}, false
}

func validateCondition(f apperr.Fields, p string, c Condition, fields []FieldInfo) {
	fi, ok := fieldInfo(fields, c.Field)
	if !ok {
		f.Add(p+".field", "approval.unknown_field")
		return
	}
	if !ops[c.Op] {
		f.Add(p+".op", "approval.bad_op")
		return
	}
	numeric := fi.Type == FieldNumber || fi.Type == FieldMoney || fi.Type == FieldPercent
	if !numeric && c.Op != "eq" && c.Op != "ne" && c.Op != "in" {
		f.Add(p+".op", "approval.bad_op") // text and enum fields compare only for (in)equality
		return
	}
	good := func(v any) bool {
		switch x := v.(type) {
		case float64:
			if !numeric {
				return false
			}
			return (fi.Type != FieldMoney && fi.Type != FieldPercent) || x == math.Trunc(x) // fen and basis points are whole
		case string:
			if numeric || x == "" {
				return false
			}
			if fi.Type == FieldEnum {
				for _, o := range fi.Options {
					if o == x {
						return true
					}
				}
				return false
			}
			return len([]rune(x)) <= 100
		}
		return false
	}
	if c.Op == "in" {
		list, ok := c.Value.([]any)
		if !ok || len(list) == 0 || len(list) > 50 {
			f.Add(p+".value", "approval.bad_value")
			return
		}
		for _, v := range list {
			if !good(v) {
				f.Add(p+".value", "approval.bad_value")
				return
			}
		}
		return
	}
	if !good(c.Value) {
		f.Add(p+".value", "approval.bad_value")
	}
}

// checkApprovers checks role codes and users against the database: a role must
// exist; a user must be active and, in a store's definition, of that store.
func checkApprovers(ctx context.Context, q db.Querier, prefix string, steps []Step, storeID int64) error {
	f := apperr.Fields{}
	for i, st := range steps {
		for j, ap := range st.Approvers {
			p := fmt.Sprintf("%s.%d.approvers.%d", prefix, i, j)
			switch ap.Kind {
			case ApproverRole:
				var n int
				if err := q.QueryRowContext(ctx, `SELECT count(*) FROM role WHERE code = ?`, ap.Role).Scan(&n); err != nil {
					return fmt.Errorf("approval: check role: %w", err)
				}
				if n == 0 {
					f.Add(p+".role", "approval.unknown_role")
				}
			case ApproverUser:
				var sid int64
				var status string
				err := q.QueryRowContext(ctx, `SELECT store_id, status FROM app_user WHERE id = ?`, ap.UserID).Scan(&sid, &status)
				if err == sql.ErrNoRows || (err == nil && (status != "active" || (storeID != 0 && sid != storeID))) {
					f.Add(p+".userId", "approval.user_not_in_store")
				} else if err != nil {
					return fmt.Errorf("approval: check user: %w", err)
				}
			}
		}
	}
	return f.Err()
}

// matches reports whether every condition holds for the document's fields. A
// field the document does not have fails its condition.
func matches(conds []Condition, fields map[string]any) bool {
	for _, c := range conds {
		v, ok := fields[c.Field]
		if !ok || !holds(c, v) {
			return false
		}
	}
	return true
}

func holds(c Condition, v any) bool {
	if c.Op == "in" {
		list, _ := c.Value.([]any)
		for _, x := range list {
			if cmp, ok := compare(v, x); ok && cmp == 0 {
				return true
			}
		}
		return false
	}
	cmp, ok := compare(v, c.Value)
	if !ok {
		return c.Op == "ne" // values of different kinds are not equal, and not ordered
	}
	switch c.Op {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	}
	return false
}

// compare orders a document value against a rule value: numbers as numbers,
// strings as strings. ok is false when the kinds differ.
func compare(a, b any) (int, bool) {
	if x, ok := number(a); ok {
		y, ok := number(b)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	x, ok1 := a.(string)
	y, ok2 := b.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	return strings.Compare(x, y), true
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// checkDefinitionScope: a group-wide definition needs group scope; a store's needs
// the store in the actor's scope.
func checkDefinitionScope(a auth.Actor, storeID *int64) error {
	if storeID == nil {
		if err := auth.Require(a, auth.PermApprovalManage); err != nil {
			return err
		}
		if a.Scope != auth.ScopeGroup {
			return apperr.New(apperr.Forbidden, "approval.group_scope")
		}
		return nil
	}
	return auth.Check(a, auth.PermApprovalManage, auth.Record{StoreID: *storeID})
}

// ListDefinitions returns the definitions the actor may see: group-wide ones and
// those of stores in scope, optionally of one store (group-wide included) and
// doc type, in routing order.
func (s *Service) ListDefinitions(ctx context.Context, a auth.Actor, storeID int64, docType string) ([]Definition, error) {
	if err := auth.Require(a, auth.PermApprovalManage); err != nil {
		return nil, err
	}
	return listDefinitions(ctx, s.db.R, a, storeID, docType)
}

// CreateDefinition adds a routing rule.
func (s *Service) CreateDefinition(ctx context.Context, a auth.Actor, in DefinitionInput) (Definition, error) {
	in.Normalize()
	t, known := s.docType(in.DocType)
	if err := in.Validate(t, known); err != nil {
		return Definition{}, err
	}
	if err := checkDefinitionScope(a, in.StoreID); err != nil {
		return Definition{}, err
	}
	var out Definition
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := checkStore(ctx, tx, in.StoreID); err != nil {
			return err
		}
		if err := checkApprovers(ctx, tx, "steps", in.Steps, deref(in.StoreID)); err != nil {
			return err
		}
		id, err := insertDefinition(ctx, tx, in, a.UserID, s.now())
		if err != nil {
			return err
		}
		if out, err = getDefinition(ctx, tx, id); err != nil {
			return err
		}
		return s.auditDefinition(ctx, tx, a, "create", out, nil, out)
	})
	return out, err
}

// UpdateDefinition edits a routing rule (optimistic: in.Version must be the stored one).
// Running approvals keep the steps they started with.
func (s *Service) UpdateDefinition(ctx context.Context, a auth.Actor, id int64, in DefinitionInput) (Definition, error) {
	if err := auth.Require(a, auth.PermApprovalManage); err != nil {
		return Definition{}, err
	}
	in.Normalize()
	t, known := s.docType(in.DocType)
	if err := in.Validate(t, known); err != nil {
		return Definition{}, err
	}
	var out Definition
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := getDefinition(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkDefinitionRead(a, before); err != nil {
			return err
		}
		if err := checkDefinitionScope(a, before.StoreID); err != nil {
			return err
		}
		if err := checkDefinitionScope(a, in.StoreID); err != nil {
			return err
		}
		if err := checkStore(ctx, tx, in.StoreID); err != nil {
			return err
		}
		if err := checkApprovers(ctx, tx, "steps", in.Steps, deref(in.StoreID)); err != nil {
			return err
		}
		if err := updateDefinition(ctx, tx, id, in, s.now()); err != nil {
			return err
		}
		if out, err = getDefinition(ctx, tx, id); err != nil {
			return err
		}
		return s.auditDefinition(ctx, tx, a, "update", out, before, out)
	})
	return out, err
}

// DeleteDefinition removes a routing rule; approvals that used it keep its name
// and steps.
func (s *Service) DeleteDefinition(ctx context.Context, a auth.Actor, id int64) error {
	if err := auth.Require(a, auth.PermApprovalManage); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		before, err := getDefinition(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkDefinitionRead(a, before); err != nil {
			return err
		}
		if err := checkDefinitionScope(a, before.StoreID); err != nil {
			return err
		}
		if err := deleteDefinition(ctx, tx, id); err != nil {
			return err
		}
		return s.auditDefinition(ctx, tx, a, "delete", before, before, nil)
	})
}

// checkDefinitionRead hides another store's definition (404), as lists do.
func checkDefinitionRead(a auth.Actor, d Definition) error {
	if d.StoreID == nil {
		return nil
	}
	if !a.InScope(auth.Record{StoreID: *d.StoreID}) {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return nil
}

func checkStore(ctx context.Context, q db.Querier, storeID *int64) error {
	if storeID == nil {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM store WHERE id = ?`, *storeID).Scan(&n); err != nil {
		return fmt.Errorf("approval: check store: %w", err)
	}
	if n == 0 {
		return apperr.Field("storeId", "store.invalid")
	}
	return nil
}

func (s *Service) auditDefinition(ctx context.Context, q db.Querier, a auth.Actor, action string, d Definition, before, after any) error {
	return s.audit(ctx, q, a, action, "approval_definition", d.ID, deref(d.StoreID), before, after)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

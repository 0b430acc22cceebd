package approval_test

import (
	"fmt"
	"net/http"
	"testing"

	"dealerdesk/app/apptest"
)

func defBody(kv ...any) map[string]any {
	m := map[string]any{"storeId": 1, "docType": docType, "name": "规则", "priority": 10, "enabled": true,
		"conditions": []any{}, "steps": []any{map[string]any{"name": "经理", "mode": "any", "approvers": []any{map[string]any{"kind": "role", "role": "sales_manager"}}}}}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func cond(field, op string, value any) []any {
	return []any{map[string]any{"field": field, "op": op, "value": value}}
}

func steps(approvers ...map[string]any) []any {
	list := make([]any, len(approvers))
	for i, a := range approvers {
		list[i] = a
	}
	return []any{map[string]any{"name": "一级", "mode": "any", "approvers": list}}
}

// TestDefinitions_FieldErrorsNameTheField: each mistake in a rule is reported on
// the field that has it.
func TestDefinitions_FieldErrorsNameTheField(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin := env.As("admin")
	cases := []struct {
		name        string
		body        map[string]any
		field, code string
	}{
		{"no name", defBody("name", " "), "name", "required"},
		{"unknown doc type", defBody("docType", "crm.nothing"), "docType", "approval.unknown_doc_type"},
		{"unknown field", defBody("conditions", cond("discount", "gt", 1)), "conditions.0.field", "approval.unknown_field"},
		{"bad op", defBody("conditions", cond("amount", "like", 1)), "conditions.0.op", "approval.bad_op"},
		{"order on an enum", defBody("conditions", cond("reason", "gt", "price")), "conditions.0.op", "approval.bad_op"},
		{"enum value not an option", defBody("conditions", cond("reason", "eq", "weather")), "conditions.0.value", "approval.bad_value"},
		{"fractional fen", defBody("conditions", cond("amount", "gte", 10.5)), "conditions.0.value", "approval.bad_value"},
		{"text for money", defBody("conditions", cond("amount", "gte", "100")), "conditions.0.value", "approval.bad_value"},
		{"fractional basis points", defBody("conditions", cond("share", "gte", 500.5)), "conditions.0.value", "approval.bad_value"},
		{"empty in list", defBody("conditions", cond("reason", "in", []any{})), "conditions.0.value", "approval.bad_value"},
		{"no steps", defBody("steps", []any{}), "steps", "approval.no_steps"},
		{"bad mode", defBody("steps", []any{map[string]any{"name": "一级", "mode": "some", "approvers": []any{map[string]any{"kind": "role", "role": "gm"}}}}), "steps.0.mode", "approval.bad_mode"},
		{"no approvers", defBody("steps", []any{map[string]any{"name": "一级", "mode": "any", "approvers": []any{}}}), "steps.0.approvers", "approval.no_approvers"},
		{"bad kind", defBody("steps", steps(map[string]any{"kind": "boss"})), "steps.0.approvers.0.kind", "approval.bad_approver_kind"},
		{"unknown role", defBody("steps", steps(map[string]any{"kind": "role", "role": "pope"})), "steps.0.approvers.0.role", "approval.unknown_role"},
		{"user of another store", defBody("steps", steps(map[string]any{"kind": "user", "userId": env.UserID("gm_NB011")})), "steps.0.approvers.0.userId", "approval.user_not_in_store"},
		{"unknown store", defBody("storeId", 999), "storeId", "store.invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			apptest.ExpectField(t, admin.Do("POST", "/approval-definitions", c.body), c.field, c.code)
		})
	}
	if n := env.count(`SELECT count(*) FROM approval_definition`); n != 0 {
		t.Errorf("%d definitions stored by invalid requests", n)
	}
	// A share in whole basis points (8.73 %) is a valid condition.
	admin.Do("POST", "/approval-definitions", defBody("conditions", cond("share", "gte", 873))).Expect(t, 201)
	// A group-wide rule may name a user of any store.
	admin.Do("POST", "/approval-definitions", defBody("storeId", nil, "steps", steps(map[string]any{"kind": "user", "userId": env.UserID("gm_NB011")}))).Expect(t, 201)
}

// TestDefinitions_EditIsOptimisticAndAudited.
func TestDefinitions_EditIsOptimisticAndAudited(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin := env.As("admin")
	var d struct {
		ID      int64 `json:"id"`
		Version int64 `json:"version"`
	}
	admin.Do("POST", "/approval-definitions", defBody()).Expect(t, 201).JSON(t, &d)
	path := fmt.Sprintf("/approval-definitions/%d", d.ID)
	admin.Do("PUT", path, defBody("name", "改名", "version", d.Version)).Expect(t, 200)
	apptest.ExpectErr(t, admin.Do("PUT", path, defBody("name", "又改", "version", d.Version)), http.StatusConflict, "conflict.stale")

	// A running approval keeps the steps it started with.
	inst := env.mustSubmit("sales", env.doc("sales", 1, "other"))
	admin.Do("DELETE", path, nil).Expect(t, 204)
	dt := getDetail(t, env.As("sales_manager"), inst.ID)
	if dt.Definition != "改名" || len(dt.Steps) != 1 || !dt.Can.Decide {
		t.Fatalf("instance after its definition was deleted: %+v", dt)
	}
	for _, a := range []string{"create", "update", "delete"} {
		if n := env.AuditCount(a, "approval_definition"); n != 1 {
			t.Errorf("%d %s audit rows, want 1", n, a)
		}
	}
	apptest.ExpectErr(t, admin.Do("DELETE", path, nil), http.StatusNotFound, "not_found")
}

// TestDefinitions_WhoMayManageWhich: the admin manages everything; a GM only their
// store's rules (group-wide ones are read-only to them, other stores' invisible);
// a consultant none.
func TestDefinitions_WhoMayManageWhich(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	admin, gm, sales := env.As("admin"), env.As("gm"), env.As("sales")
	group := env.define(admin, nil, "集团", 1, nil, step("经理", "any", role("sales_manager")))
	other := env.define(admin, storeID(2), "宁波", 1, nil, step("经理", "any", role("sales_manager")))

	gm.Do("POST", "/approval-definitions", defBody()).Expect(t, 201)
	apptest.ExpectErr(t, gm.Do("POST", "/approval-definitions", defBody("storeId", nil)), http.StatusForbidden, "approval.group_scope")
	apptest.ExpectErr(t, gm.Do("POST", "/approval-definitions", defBody("storeId", 2)), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, gm.Do("PUT", fmt.Sprintf("/approval-definitions/%d", other), defBody("version", 1)), http.StatusNotFound, "not_found")
	apptest.ExpectErr(t, gm.Do("DELETE", fmt.Sprintf("/approval-definitions/%d", group), nil), http.StatusForbidden, "approval.group_scope")
	var list struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	gm.Do("GET", "/approval-definitions", nil).Expect(t, 200).JSON(t, &list)
	if len(list.Items) != 2 {
		t.Errorf("gm sees %+v, want their store's and the group's", list.Items)
	}

	for _, r := range []*apptest.Response{
		sales.Do("GET", "/approval-definitions", nil),
		sales.Do("POST", "/approval-definitions", defBody()),
		sales.Do("PUT", fmt.Sprintf("/approval-definitions/%d", group), defBody("version", 1)),
		sales.Do("DELETE", fmt.Sprintf("/approval-definitions/%d", group), nil),
	} {
		apptest.ExpectErr(t, r, http.StatusForbidden, "forbidden")
	}
	// Everyone may read the document types (the inbox labels their fields).
	var types struct {
		Items []struct {
			Type   string `json:"type"`
			Fields []struct {
				Key  string `json:"key"`
				Type string `json:"type"`
			} `json:"fields"`
		} `json:"items"`
	}
	sales.Do("GET", "/approval-doc-types", nil).Expect(t, 200).JSON(t, &types)
	found := false
	for _, it := range types.Items {
		found = found || (it.Type == docType && len(it.Fields) == 4 && it.Fields[1].Type == "percent")
	}
	if !found {
		t.Errorf("doc types %+v lack %s with its fields", types, docType)
	}
}

// TestVisibility_ConsultantsSeeOnlyTheirOwn: the submitter, the approvers and
// holders of the document's read permission in scope see an approval; another
// consultant and another store's manager get 404, in the detail and the lists.
func TestVisibility_ConsultantsSeeOnlyTheirOwn(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	inst := env.mustSubmit("sales", env.doc("sales", 1, "other"))
	path := fmt.Sprintf("/approvals/%d", inst.ID)
	for _, who := range []string{"sales", "sales_manager", "gm", "admin"} {
		env.As(who).Do("GET", path, nil).Expect(t, 200)
	}
	for _, who := range []string{"sales_HZ012", "gm_NB011", "technician"} {
		c := env.As(who)
		apptest.ExpectErr(t, c.Do("GET", path, nil), http.StatusNotFound, "not_found")
		apptest.ExpectErr(t, act(c, inst.ID, "comment", "看看"), http.StatusNotFound, "not_found")
		apptest.ExpectErr(t, act(c, inst.ID, "approve", ""), http.StatusNotFound, "not_found")
		var l struct {
			Items []any `json:"items"`
		}
		c.Do("GET", "/approvals", nil).Expect(t, 200).JSON(t, &l)
		if len(l.Items) != 0 {
			t.Errorf("%s lists %d approvals of others", who, len(l.Items))
		}
	}
	// The gm reads it through customer.read at store scope but is no approver.
	gm := env.As("gm")
	if d := getDetail(t, gm, inst.ID); d.Can.Decide || d.Can.Withdraw {
		t.Errorf("gm may act: %+v", d.Can)
	}
	apptest.ExpectErr(t, act(gm, inst.ID, "approve", ""), http.StatusForbidden, "approval.not_your_turn")
}

// TestList_MineFiltersAndKeysetPaging.
func TestList_MineFiltersAndKeysetPaging(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var ids []int64
	for i := 0; i < 5; i++ {
		ids = append(ids, env.mustSubmit("sales", env.doc("sales", int64(i), "other")).ID)
	}
	mgr, sales := env.As("sales_manager"), env.As("sales")
	act(mgr, ids[1], "approve", "").Expect(t, 200)
	act(mgr, ids[3], "reject", "不行").Expect(t, 200)

	type page struct {
		Items []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
		Next string `json:"next"`
	}
	var seen []int64
	cursor := ""
	for {
		var p page
		sales.Do("GET", "/approvals?mine=submitted&limit=2&cursor="+cursor, nil).Expect(t, 200).JSON(t, &p)
		for _, it := range p.Items {
			seen = append(seen, it.ID)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if fmt.Sprint(seen) != fmt.Sprint([]int64{ids[4], ids[3], ids[2], ids[1], ids[0]}) {
		t.Errorf("submitted pages %v, want every one newest first once", seen)
	}
	var p page
	mgr.Do("GET", "/approvals?mine=decided", nil).Expect(t, 200).JSON(t, &p)
	if len(p.Items) != 2 || p.Items[0].ID != ids[3] || p.Items[1].ID != ids[1] {
		t.Errorf("decided by the manager: %+v", p.Items)
	}
	mgr.Do("GET", "/approvals?status=pending&docType="+docType, nil).Expect(t, 200).JSON(t, &p)
	if len(p.Items) != 3 {
		t.Errorf("pending visible to the manager: %d, want 3", len(p.Items))
	}
	apptest.ExpectField(t, mgr.Do("GET", "/approvals?mine=everything", nil), "mine", "invalid_format")
	apptest.ExpectField(t, mgr.Do("GET", "/approvals?status=maybe", nil), "status", "invalid_format")
}

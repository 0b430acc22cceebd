package org_test

import (
	"fmt"
	"testing"

	"dealerdesk/app/apptest"
)

// TestUpdateUser_UnchangedMaskedPhoneKeepsTheNumber: an editor who only ever sees
// the masked phone can save the form without losing or having to know the number;
// a different mask is refused and a full number replaces it.
func TestUpdateUser_UnchangedMaskedPhoneKeepsTheNumber(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	id := env.UserID("sales_HZ012")
	var stored string
	env.App.DB.R.QueryRow(`SELECT phone FROM app_user WHERE id = ?`, id).Scan(&stored)
	hr := env.As("hr") // manages users; phones reach them masked
	var u struct {
		Phone   string
		Version int64
		RoleID  int64
		StoreID int64
		Name    string
	}
	hr.Do("GET", fmt.Sprintf("/users/%d", id), nil).Expect(t, 200).JSON(t, &u)
	if u.Phone == stored || len(u.Phone) != 11 {
		t.Fatalf("hr sees %q for %q: not masked", u.Phone, stored)
	}
	put := func(phone string, version int64) *apptest.Response {
		return hr.Do("PUT", fmt.Sprintf("/users/%d", id), map[string]any{"name": "新名字", "phone": phone, "roleId": u.RoleID, "storeId": u.StoreID, "version": version})
	}
	put(u.Phone, u.Version).Expect(t, 200)
	var after string
	env.App.DB.R.QueryRow(`SELECT phone FROM app_user WHERE id = ?`, id).Scan(&after)
	if after != stored {
		t.Fatalf("saving the masked phone changed %q to %q", stored, after)
	}
	if e := put("138****0000", u.Version+1).Expect(t, 400).Error(t); e.Fields["phone"].Code != "phone.invalid" {
		t.Fatalf("a foreign mask was not refused: %+v", e)
	}
	put("13912345678", u.Version+1).Expect(t, 200)
	env.App.DB.R.QueryRow(`SELECT phone FROM app_user WHERE id = ?`, id).Scan(&after)
	if after != "13912345678" {
		t.Fatalf("full number not stored: %q", after)
	}
}

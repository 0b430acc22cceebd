package auth_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"dealerdesk/app/apperr"
	"dealerdesk/app/apptest"
	"dealerdesk/app/auth"
	"dealerdesk/app/demo"
)

var argon2idHash = regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$`)

func TestValidatePassword_Policy(t *testing.T) {
	t.Parallel()
	pol := auth.DefaultSecurity // 8 characters, 2 classes
	cases := []struct {
		name, pw, username string
		field, code        string // "" when accepted
	}{
		{"too short", "Ab1#xyz", "", "password", "password.too_short"},
		{"short in runes though long in bytes", "密码密码密码1", "", "password", "password.too_short"},
		{"one class", "abcdefghij", "", "password", "password.classes"},
		{"digits only", "1357924680", "", "password", "password.classes"},
		{"two classes", "abcdefg7", "", "", ""},
		{"Chinese and digits", "我的密码很安全2026", "", "", ""},
		{"common", "woaini1314", "", "password", "password.common"},
		{"common whatever the case", "WoAiNi1314", "", "password", "password.common"},
		{"common English", "Password123", "", "password", "password.common"},
		{"contains the username", "Zhangwei@2026", "zhangwei", "password", "password.same_as_username"},
		{"contains a short username", "abXY2468", "ab", "", ""},
		{"64 runes", "Aa1" + strings.Repeat("x", 61), "", "", ""},
		{"128 runes", "Aa1" + strings.Repeat("x", 125), "", "", ""},
		{"128 Chinese runes", strings.Repeat("安", 127) + "1", "", "", ""},
		{"129 runes", "Aa1" + strings.Repeat("x", 126), "", "password", "too_long"},
	}
	for _, c := range cases {
		err := auth.ValidatePassword("password", c.pw, c.username, pol)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: refused: %v", c.name, err)
			}
			continue
		}
		e := apperr.As(err)
		if err == nil || e.Kind != apperr.Invalid || e.Fields[c.field].Code != c.code {
			t.Errorf("%s: got %v, want %s: %s", c.name, err, c.field, c.code)
		}
	}
	// The limits come from the settings, and the field name from the caller.
	strict := pol
	strict.PasswordMinLength, strict.PasswordRequireClasses = 12, 4
	err := auth.ValidatePassword("newPassword", "Abcdefg1#xy", "", strict)
	if apperr.As(err).Fields["newPassword"].Code != "password.too_short" {
		t.Errorf("min length 12: %v", err)
	}
	if err := auth.ValidatePassword("newPassword", "Abcdefgh1xyz", "", strict); apperr.As(err).Fields["newPassword"].Code != "password.classes" {
		t.Errorf("4 classes: %v", err)
	}
}

func TestHashPassword_Argon2idWithoutTruncation(t *testing.T) {
	t.Parallel()
	pw := "Aa1#" + strings.Repeat("k", 76) // 80 bytes, past bcrypt's 72
	h, err := auth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !argon2idHash.MatchString(h) {
		t.Errorf("hash %q is not an argon2id v19 PHC string", h)
	}
	if !auth.CheckPassword(pw, h) {
		t.Error("the password does not match its own hash")
	}
	differsAt73 := pw[:72] + "K" + pw[73:]
	if auth.CheckPassword(differsAt73, h) {
		t.Error("a password differing only at character 73 matched: the hash truncates")
	}
	if auth.CheckPassword(pw[:72], h) {
		t.Error("the first 72 characters alone matched")
	}
	h2, _ := auth.HashPassword(pw)
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	if auth.CheckPassword(pw, "not a hash") || auth.CheckPassword("", h) {
		t.Error("a malformed hash or empty password matched")
	}
}

func TestCreateUser_PasswordPolicyThroughTheAPI(t *testing.T) {
	t.Parallel()
	env := apptest.NewDemo(t)
	admin := env.As("admin")
	var policy struct{ MinLength, RequireClasses int }
	env.Client().Do("GET", "/auth/password-policy", nil).Expect(t, http.StatusOK).JSON(t, &policy)
	if policy.MinLength != 8 || policy.RequireClasses != 2 {
		t.Errorf("policy %+v, want 8 / 2", policy)
	}
	create := func(username, pw string) int {
		r := admin.Do("POST", "/users", map[string]any{"username": username, "name": "测试", "roleId": env.RoleID("sales"), "storeId": 1, "password": pw})
		return r.Status
	}
	refused := []struct{ pw, code string }{
		{"Ab1#xyz", "password.too_short"},
		{"abcdefghij", "password.classes"},
		{"woaini1314", "password.common"},
		{"Liming@2026", "password.same_as_username"},
		{"Aa1" + strings.Repeat("x", 126), "too_long"},
	}
	for _, c := range refused {
		r := admin.Do("POST", "/users", map[string]any{"username": "liming", "name": "李明", "roleId": env.RoleID("sales"), "storeId": 1, "password": c.pw})
		apptest.ExpectField(t, r, "password", c.code)
	}
	long64 := "Aa1" + strings.Repeat("x", 61)
	long128 := strings.Repeat("安", 127) + "1"
	if s := create("user64", long64); s != http.StatusCreated {
		t.Fatalf("64-rune password refused: %d", s)
	}
	if s := create("user128", long128); s != http.StatusCreated {
		t.Fatalf("128-rune password refused: %d", s)
	}
	long80 := "Aa1#" + strings.Repeat("k", 76)
	if s := create("user80", long80); s != http.StatusCreated {
		t.Fatalf("80-character password refused: %d", s)
	}
	login(env, env.Client(), "user128", long128).Expect(t, http.StatusOK)
	login(env, env.Client(), "user64", long64).Expect(t, http.StatusOK)
	apptest.ExpectErr(t, login(env, env.Client(), "user80", long80[:72]+"K"+long80[73:]), http.StatusUnauthorized, "auth.bad_credentials")
	login(env, env.Client(), "user80", long80).Expect(t, http.StatusOK)

	rows, err := env.App.DB.R.Query(`SELECT username, password_hash FROM app_user`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var u, h string
		rows.Scan(&u, &h)
		if !argon2idHash.MatchString(h) {
			t.Errorf("%s: stored hash %q is not argon2id", u, h)
		}
		if strings.Contains(h, demo.Password) || strings.Contains(h, long80) {
			t.Errorf("%s: the stored hash contains the password", u)
		}
	}
}

package org_test

import (
	"testing"
	"time"

	"dealerdesk/app/apptest"
)

func TestProbe(t *testing.T) {
	s := time.Now()
	env := apptest.New(t)
	t.Log("new", time.Since(s))
	s = time.Now()
	env.Demo()
	t.Log("demo", time.Since(s))
	s = time.Now()
	c := env.As("admin")
	t.Log("login", time.Since(s))
	s = time.Now()
	r := c.Do("GET", "/users?limit=200", nil)
	t.Log("list", time.Since(s), r.Status, len(r.Body))
}

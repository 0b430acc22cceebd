package httpapi_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"dealerdesk/app/apptest"
	"dealerdesk/app/demo"
	"dealerdesk/app/httpapi"
)

// TestTLS_SecureCookieAndHSTS: under HTTPS the session cookie is __Host- and
// Secure, and HSTS is sent.
func TestTLS_SecureCookieAndHSTS(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	env.Demo()
	srv := httptest.NewTLSServer(env.App.Server.Echo)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	cl := srv.Client()
	cl.Jar = jar
	resp, err := cl.Post(srv.URL+"/api/v1/auth/login", "application/json", strings.NewReader(`{"login":"admin","password":"`+demo.Password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login over TLS: %d", resp.StatusCode)
	}
	sc := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-dd_session=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %s", sc, want)
		}
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS under TLS")
	}
	me, err := cl.Get(srv.URL + "/api/v1/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	me.Body.Close()
	if me.StatusCode != 200 {
		t.Fatalf("session cookie not honoured over TLS: %d", me.StatusCode)
	}
}

// TestSelfSignedCert_NamesTheMachineAndIsReused checks the LAN certificate.
func TestSelfSignedCert_NamesTheMachineAndIsReused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	certFile, keyFile, err := httpapi.SelfSignedCert(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(certFile)
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.VerifyHostname("localhost"); err != nil {
		t.Errorf("localhost: %v", err)
	}
	if err := cert.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("127.0.0.1: %v", err)
	}
	if cert.NotAfter.Before(now.Add(365 * 24 * time.Hour)) {
		t.Errorf("certificate expires too soon: %v", cert.NotAfter)
	}
	if st, _ := os.Stat(keyFile); st.Mode().Perm()&0o077 != 0 {
		t.Errorf("key file is readable by others: %v", st.Mode())
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatalf("pair does not load: %v", err)
	}
	c2, _, err := httpapi.SelfSignedCert(dir, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(c2)
	if string(b2) != string(b) {
		t.Error("a valid certificate was regenerated instead of reused (phones would have to accept it again)")
	}
	// Near expiry it is renewed.
	if _, _, err := httpapi.SelfSignedCert(dir, cert.NotAfter.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b3, _ := os.ReadFile(certFile); string(b3) == string(b) {
		t.Error("an expiring certificate was not renewed")
	}
}

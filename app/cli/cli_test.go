package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"dealerdesk/app/cli"
)

func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cli.Stdin = strings.NewReader(stdin)
	code := cli.Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI_VersionAndHelp(t *testing.T) {
	code, out, _ := run(t, "", "version")
	if code != 0 || !regexp.MustCompile(`^dealerdesk \S+ \(schema \d+\)`).MatchString(out) {
		t.Fatalf("version: %d %q", code, out)
	}
	code, out, _ = run(t, "", "--help")
	if code != 0 || !strings.Contains(out, "--data DIR") || !strings.Contains(out, "demo") {
		t.Fatalf("help: %d %q", code, out)
	}
	code, _, errs := run(t, "", "serve", "--help")
	if code != 0 || !strings.Contains(errs, "-addr") || !strings.Contains(errs, "DEALERDESK_ADDR") {
		t.Fatalf("serve --help: %d %q", code, errs)
	}
	if code, _, errs := run(t, "", "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
	if code, _, errs := run(t, "", "serve", "--addr", "nonsense", "--data", t.TempDir()); code != 1 || !strings.Contains(errs, "host:port") {
		t.Fatalf("bad addr: %d %q", code, errs)
	}
}

func TestCLI_ConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "dd.conf")
	writeFile(t, cfgFile, "addr :7001\nlog-level warn\n")
	t.Setenv("DEALERDESK_ADDR", ":7002")
	_, out, errs := run(t, "", "config", "dump", "--config", cfgFile)
	if !strings.Contains(out, "addr=:7002") || !strings.Contains(out, "log-level=warn") {
		t.Fatalf("env should beat file, file should beat default: %q %q", out, errs)
	}
	_, out, _ = run(t, "", "config", "dump", "--config", cfgFile, "--addr", ":7003")
	if !strings.Contains(out, "addr=:7003") {
		t.Fatalf("flag should beat env: %q", out)
	}
}

func TestCLI_DemoMigrateAdminAudit(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, "", "demo", "--data", dir)
	if code != 0 || !strings.Contains(out, "3 stores") || !strings.Contains(out, "480 customers") {
		t.Fatalf("demo: %d %q %q", code, out, errs)
	}
	code, out, errs = run(t, "", "reindex", "--data", dir)
	if code != 0 || !strings.Contains(out, "search index rebuilt") {
		t.Fatalf("reindex: %d %q %q", code, out, errs)
	}
	if fi, err := os.Stat(filepath.Join(dir, "search")); err != nil || !fi.IsDir() {
		t.Fatalf("no index written under the data dir: %v", err)
	}
	if code, _, errs := run(t, "", "demo", "--data", dir); code != 1 || !strings.Contains(errs, "already has users") {
		t.Fatalf("second demo into the same dir must refuse: %d %q", code, errs)
	}
	code, out, _ = run(t, "", "migrate", "status", "--data", dir)
	if code != 0 || !strings.Contains(out, "0001  applied") || strings.Contains(out, "pending") {
		t.Fatalf("migrate status: %d %q", code, out)
	}
	// admin create-user reads the password from stdin and enforces the policy.
	if code, _, errs := run(t, "short\n", "admin", "create-user", "--data", dir, "--username", "itguy", "--name", "网管", "--store", "HZ01"); code != 1 || !strings.Contains(errs, "password.too_short") {
		t.Fatalf("weak password accepted: %d %q", code, errs)
	}
	code, out, errs = run(t, "Lan-Admin-2026\n", "admin", "create-user", "--data", dir, "--username", "itguy", "--name", "网管", "--store", "HZ01")
	if code != 0 || !strings.Contains(out, "User itguy created") {
		t.Fatalf("create-user: %d %q %q", code, out, errs)
	}
	code, out, _ = run(t, "Other-Pass-2027\n", "admin", "reset-password", "--data", dir, "--username", "itguy")
	if code != 0 || !strings.Contains(out, "must choose a new one") {
		t.Fatalf("reset-password: %d %q", code, out)
	}
	code, out, _ = run(t, "", "audit", "verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "audit log intact") {
		t.Fatalf("verify: %d %q", code, out)
	}
	// Tamper with the log outside the program: verify must say so.
	db, err := sql.Open("sqlite", filepath.Join(dir, "dealerdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET user_name = 'someone else' WHERE id = 2`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	code, _, errs = run(t, "", "audit", "verify", "--data", dir)
	if code != 1 || !strings.Contains(errs, "BROKEN at row 2") {
		t.Fatalf("tampering not detected: %d %q", code, errs)
	}
}

// TestCLI_ServeShutsDownGracefully starts the real server on a free port, waits for
// it to answer, then cancels and expects a clean exit.
func TestCLI_ServeShutsDownGracefully(t *testing.T) {
	dir := t.TempDir()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errb bytes.Buffer
	go func() {
		done <- cli.Main(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, pw, &errb)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var base, token string
	for sc.Scan() {
		line := sc.Text()
		if m := regexp.MustCompile(`serving on (http://localhost:\d+)`).FindStringSubmatch(line); m != nil {
			base = m[1]
		}
		if m := regexp.MustCompile(`setup token (\S+)`).FindStringSubmatch(line); m != nil {
			token = m[1]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" || len(token) < 20 {
		t.Fatalf("no address or setup token printed (base %q token %q): %s", base, token, errb.String())
	}
	if b := readFile(t, filepath.Join(dir, "setup-token")); strings.TrimSpace(b) != token {
		t.Fatalf("setup-token file %q differs from printed %q", b, token)
	}
	resp, err := http.Get(base + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	if !strings.Contains(errb.String(), "stopped") {
		t.Errorf("no shutdown log: %s", errb.String())
	}
}

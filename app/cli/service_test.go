package cli

import (
	"bufio"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kardianos/service"
)

// TestServiceConfig_Linux: the systemd unit runs "service run" with an absolute data
// dir, restarts on failure and sandboxes the server to its data dir.
func TestServiceConfig_Linux(t *testing.T) {
	c, err := serviceConfig("linux", "/opt/dealerdesk/dealerdesk", installFlags{
		Data: "data", Cwd: "/srv/dd", Addr: ":8091", TLSSelfSigned: true, User: "dealerdesk",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"service", "run", "--data", "/srv/dd/data", "--addr", ":8091", "--tls-self-signed"}
	if !slices.Equal(c.Arguments, want) {
		t.Fatalf("arguments %q, want %q", c.Arguments, want)
	}
	if c.Name != "dealerdesk" || c.DisplayName != "DealerDesk 经销商管理系统" || c.UserName != "dealerdesk" || c.Executable != "/opt/dealerdesk/dealerdesk" {
		t.Fatalf("config %+v", c)
	}
	if !strings.Contains(c.Description, "dealership") || !strings.Contains(c.Description, "经销商") {
		t.Errorf("description not in English and Chinese: %q", c.Description)
	}
	if c.Option["Restart"] != "on-failure" || c.Option["LimitNOFILE"] != 65536 {
		t.Errorf("options %v", c.Option)
	}
	unit, _ := c.Option["SystemdScript"].(string)
	for _, line := range []string{
		"ExecStart={{Path | cmdEscape}}{{range Arguments}} {{. | cmd}}{{end}}",
		`ReadWritePaths="/srv/dd/data" -/mnt -/media`,
		"ProtectSystem=strict", "NoNewPrivileges=true", "ProtectHome=true", "PrivateTmp=true",
		"TimeoutStopSec=40", "EnvironmentFile=-/etc/default/{{Name}}", "WantedBy=multi-user.target",
	} {
		if !strings.Contains(unit, line+"\n") {
			t.Errorf("unit lacks %q:\n%s", line, unit)
		}
	}
	if strings.Contains(unit, "CAP_NET_BIND_SERVICE") {
		t.Error("port 8091 needs no capability")
	}
	// kardianos renders the unit with its own small template language: only the keys its
	// systemd Install passes exist, anything else fails at install time on the customer's machine.
	known := map[string]bool{"Description": true, "Path": true, "Name": true, "Dependencies": true, "Arguments": true,
		"UserName": true, "LimitNOFILE": true, "Restart": true, "EnvVars": true, ".": true, "end": true}
	for _, m := range regexp.MustCompile(`{{-?\s*(?:if |range )?([^\s|}]+)`).FindAllStringSubmatch(unit, -1) {
		if !known[m[1]] {
			t.Errorf("unit template uses %q, which kardianos does not provide", m[1])
		}
	}
	if strings.Count(unit, "{{if ")+strings.Count(unit, "{{range ") != strings.Count(unit, "{{end}}") {
		t.Error("unbalanced {{if}}/{{range}} … {{end}}")
	}

	// Port 80 as a plain user needs the capability; a data dir in a home keeps /home read-only instead of hidden.
	c, err = serviceConfig("linux", "/usr/local/bin/dealerdesk", installFlags{Data: "/home/shop/dd", Addr: ":80", User: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	unit = c.Option["SystemdScript"].(string)
	if !strings.Contains(unit, "AmbientCapabilities=CAP_NET_BIND_SERVICE\n") || !strings.Contains(unit, "ProtectHome=read-only\n") {
		t.Errorf("unit for :80 in /home:\n%s", unit)
	}

	for _, tc := range []struct {
		f    installFlags
		want string
	}{
		{installFlags{Cwd: "/root"}, "--data is required"},
		{installFlags{Data: "/d", Addr: "8090"}, "not host:port"},
		{installFlags{Data: "/d", Addr: ":0"}, "from 1 to 65535"},
		{installFlags{Data: "/d/100%"}, "without quotes"},
		{installFlags{Data: "/d", User: "bad user"}, "not a valid account"},
		{installFlags{Data: "/d", TLSCert: "/c.pem"}, "go together"},
		{installFlags{Data: "/d", TLSSelfSigned: true, TLSCert: "/c", TLSKey: "/k"}, "not both"},
	} {
		if _, err := serviceConfig("linux", "/usr/bin/dealerdesk", tc.f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.f, err, tc.want)
		}
	}
}

// TestServiceConfig_Windows: a Windows service starts in C:\Windows\System32, so a
// relative or empty --data is taken next to dealerdesk.exe; the service starts at
// boot (delayed) and is restarted after a failure.
func TestServiceConfig_Windows(t *testing.T) {
	const exe = `C:\DealerDesk\dealerdesk.exe`
	for _, tc := range []struct{ data, want string }{
		{"", `C:\DealerDesk\data`},
		{"data", `C:\DealerDesk\data`},
		{`.\store-data`, `C:\DealerDesk\store-data`},
		{`..\dd-data`, `C:\dd-data`},
		{`D:\DealerDesk\data`, `D:\DealerDesk\data`},
		{`d:/DealerDesk/data/`, `D:\DealerDesk\data`},
		{`C:\DealerDesk\data`, `C:\DealerDesk\data`},
		{`\\nas\dd\data`, `\\nas\dd\data`},
	} {
		c, err := serviceConfig("windows", exe, installFlags{Data: tc.data, Cwd: `C:\Windows\System32`})
		if err != nil {
			t.Errorf("--data %q: %v", tc.data, err)
			continue
		}
		want := []string{"service", "run", "--data", tc.want, "--addr", ":8090"}
		if !slices.Equal(c.Arguments, want) {
			t.Errorf("--data %q: arguments %q, want %q", tc.data, c.Arguments, want)
		}
	}
	c, err := serviceConfig("windows", `C:\dealerdesk.exe`, installFlags{Addr: "0.0.0.0:8443", TLSCert: `certs\s.pem`, TLSKey: `E:\k.pem`})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"service", "run", "--data", `C:\data`, "--addr", "0.0.0.0:8443", "--tls-cert", `C:\certs\s.pem`, "--tls-key", `E:\k.pem`}
	if !slices.Equal(c.Arguments, want) {
		t.Errorf("arguments %q, want %q", c.Arguments, want)
	}
	if c.Option["StartType"] != "automatic" || c.Option["DelayedAutoStart"] != true || c.Option["OnFailure"] != "restart" ||
		c.Option["OnFailureDelayDuration"] != "10s" || c.Option["OnFailureResetPeriod"] != 86400 {
		t.Errorf("options %v", c.Option)
	}
	if _, ok := c.Option["SystemdScript"]; ok || c.UserName != "" {
		t.Error("systemd settings in a Windows config")
	}
	for _, tc := range []struct {
		f    installFlags
		want string
	}{
		{installFlags{Data: `C:data`}, "full path"},
		{installFlags{Data: `\data`}, "full path"},
		{installFlags{Data: `D:\d`, User: "shop"}, "--user is for Linux"},
	} {
		if _, err := serviceConfig("windows", exe, tc.f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.f, err, tc.want)
		}
	}
}

func TestServiceRun_FlagHelpers(t *testing.T) {
	on, rest := takeBoolFlag([]string{"--addr", ":1", "--log-file", "-x"}, "log-file")
	if !on || !slices.Equal(rest, []string{"--addr", ":1", "-x"}) {
		t.Errorf("takeBoolFlag: %v %q", on, rest)
	}
	if on, _ := takeBoolFlag([]string{"-log-file=false"}, "log-file"); on {
		t.Error("--log-file=false read as true")
	}
	v, rest, err := takeStringFlag([]string{"-data", "/a", "--addr", ":1", "--data=/b"}, "data")
	if err != nil || v != "/b" || !slices.Equal(rest, []string{"--addr", ":1"}) {
		t.Errorf("takeStringFlag: %q %q %v", v, rest, err)
	}
	if _, _, err := takeStringFlag([]string{"--data"}, "data"); err == nil {
		t.Error("--data without a value accepted")
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// dealerdeskBinary builds the real program once per test run.
func dealerdeskBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dealerdesk-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "dealerdesk")
		out, err := exec.Command("go", "build", "-o", binPath, "-ldflags", "-X dealerdesk/app.Version=svc-test", "dealerdesk").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// TestServiceRun_StopsGracefullyAndLogsToFile runs the real binary the way a service
// manager does (stdin not a terminal, stopped with SIGTERM) while a request is in
// flight: the request completes, the process exits 0, and the rotating log file in
// <data>/logs holds the start and stop lines and not the setup token.
func TestServiceRun_StopsGracefullyAndLogsToFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	if runtime.GOOS == "windows" {
		t.Skip("stops the child with SIGTERM; the Windows service manager path is Stop → cancel, the same code")
	}
	bin := dealerdeskBinary(t)
	data := t.TempDir()
	logPath := filepath.Join(data, "logs", "dealerdesk.log")
	// service.Interactive() is true for a child of "go test" (its parent is not the
	// service manager), so --log-file forces what a real service does by itself.
	cmd := exec.Command(bin, "service", "run", "--data", data, "--addr", "127.0.0.1:0", "--log-file")
	var console strings.Builder
	cmd.Stdout, cmd.Stderr = &console, &console
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})

	var base string
	deadline := time.Now().Add(60 * time.Second)
	for base == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no address in the log file after 60 s; log:\n%s\nconsole:\n%s", readLog(logPath), console.String())
		}
		select {
		case err := <-exited:
			t.Fatalf("service run exited early: %v\nlog:\n%s\nconsole:\n%s", err, readLog(logPath), console.String())
		case <-time.After(50 * time.Millisecond):
		}
		if m := regexp.MustCompile(`serving on (http://localhost:\d+)`).FindStringSubmatch(readLog(logPath)); m != nil {
			base = m[1]
		}
	}
	resp, err := http.Get(base + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}

	// A sign-in whose body is still arriving when the stop signal comes.
	pr, pw := io.Pipe()
	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post(base+"/api/v1/auth/login", "application/json", pr)
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{status: resp.StatusCode, body: string(b)}
	}()
	if _, err := io.WriteString(pw, `{"login":"nobody",`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the server has the headers and is reading the body
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Wait until the server has stopped accepting connections: shutdown has begun
	// while the sign-in is still in flight.
	addr := strings.TrimPrefix(base, "http://")
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if i > 200 {
			t.Fatal("still accepting connections 10 s after SIGTERM")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopAt := time.Now()
	if _, err := io.WriteString(pw, `"password":"not-the-password-1"}`); err != nil {
		t.Fatalf("the server dropped the request in flight: %v", err)
	}
	pw.Close()
	r := <-res
	if r.err != nil {
		t.Fatalf("request in flight failed during shutdown: %v", r.err)
	}
	if r.status != http.StatusUnauthorized {
		t.Errorf("sign-in during shutdown: %d %s (want a complete 401 answer)", r.status, r.body)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("service run exited with %v\nlog:\n%s\nconsole:\n%s", err, readLog(logPath), console.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("still running 40 s after SIGTERM\nlog:\n%s", readLog(logPath))
	}
	t.Logf("stopped %v after the request in flight finished", time.Since(stopAt).Round(time.Millisecond))

	log := readLog(logPath)
	for _, want := range []string{
		`msg="service starting" version=svc-test data=` + data,
		"DealerDesk svc-test serving on " + base,
		`msg="service stopping"`,
		"shutting down",
		`msg="service stopped"`,
		"setup token [in the setup-token file]",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	token, err := os.ReadFile(filepath.Join(data, "setup-token"))
	if err != nil || len(strings.TrimSpace(string(token))) < 20 {
		t.Fatalf("setup-token file: %q %v", token, err)
	}
	for _, secret := range []string{strings.TrimSpace(string(token)), "not-the-password-1"} {
		if strings.Contains(log, secret) {
			t.Errorf("log file holds a secret %q:\n%s", secret, log)
		}
	}
	if strings.Contains(console.String(), "serving on") {
		t.Errorf("with a log file, nothing should go to the console:\n%s", console.String())
	}
}

func readLog(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// TestServiceCmd_Plain: commands that need no service manager answer in plain words.
func TestServiceCmd_Plain(t *testing.T) {
	var out, errb strings.Builder
	if err := serviceCmd(context.Background(), nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "install, uninstall") {
		t.Errorf("no subcommand: %v", err)
	}
	if err := serviceCmd(context.Background(), []string{"frobnicate"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "unknown service command") {
		t.Errorf("unknown: %v", err)
	}
	if err := serviceCmd(context.Background(), []string{"--help"}, &out, &errb); err != nil || !strings.Contains(out.String(), "install --data DIR") {
		t.Errorf("help: %v %q", err, out.String())
	}
	if os.Geteuid() != 0 {
		err := serviceCmd(context.Background(), []string{"install", "--data", t.TempDir()}, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "administrator rights") {
			t.Errorf("install as a plain user: %v", err)
		}
	}
	if !installedHere() && service.ChosenSystem() != nil {
		out.Reset()
		if err := serviceCmd(context.Background(), []string{"status"}, &out, &errb); err != nil || out.String() != "dealerdesk: not installed\n" {
			t.Errorf("status: %v %q", err, out.String())
		}
		if err := serviceCmd(context.Background(), []string{"stop"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "not installed") {
			t.Errorf("stop when not installed: %v", err)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(serviceUsage))
	for sc.Scan() {
		if len(sc.Text()) > 100 {
			t.Errorf("usage line too long: %q", sc.Text())
		}
	}
}

// TestPackaging_LinuxAmd64Deb runs packaging/build.sh for linux/amd64 and checks what comes out:
// a static binary that prints the version it was given, a .deb with the binary, the
// unit, the defaults file and the maintainer scripts, and SHA256SUMS.
// It fetches nfpm through the Go module proxy on first use, so it runs only when
// asked (DEALERDESK_PACKAGING_TEST=1) or in CI (CI=true).
func TestPackaging_LinuxAmd64Deb(t *testing.T) {
	if os.Getenv("DEALERDESK_PACKAGING_TEST") != "1" && os.Getenv("CI") != "true" {
		t.Skip("set DEALERDESK_PACKAGING_TEST=1 (or CI=true) to build the .deb")
	}
	for _, tool := range []string{"bash", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed: %v", tool, err)
		}
	}
	dist := t.TempDir()
	const version = "v9.8.7-test"
	start := time.Now()
	cmd := exec.Command("bash", "../../packaging/build.sh")
	// TRIMPATH=0: reuse the packages "go test ./..." compiled (a -trimpath build shares
	// nothing with them and takes minutes on a cold cache); the release build keeps it.
	cmd.Env = append(os.Environ(), "VERSION="+version, "TARGETS=linux/amd64", "DIST="+dist, "TRIMPATH=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	t.Logf("build.sh linux/amd64 took %v\n%s", time.Since(start).Round(100*time.Millisecond), out)

	bin := filepath.Join(dist, "dealerdesk-linux-amd64")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary is not static: it has a %v program header", p.Type)
		}
	}
	f.Close()
	if v, err := exec.Command(bin, "version").Output(); err != nil || !strings.HasPrefix(string(v), "dealerdesk "+version+" ") {
		t.Errorf("version: %q %v", v, err)
	}

	deb := filepath.Join(dist, "dealerdesk_9.8.7+test_amd64.deb")
	contents := runTool(t, "dpkg-deb", "-c", deb)
	for _, want := range []string{
		`-rwxr-xr-x root/root .* \./usr/bin/dealerdesk\n`,
		`-rw-r--r-- root/root .* \./lib/systemd/system/dealerdesk\.service\n`,
		`-rw-r--r-- root/root .* \./etc/default/dealerdesk\n`,
	} {
		if !regexp.MustCompile(want).MatchString(contents) {
			t.Errorf(".deb lacks %s:\n%s", want, contents)
		}
	}
	info := runTool(t, "dpkg-deb", "-I", deb)
	for _, want := range []string{"Package: dealerdesk", "Version: 9.8.7+test", "Architecture: amd64", " postinst ", " prerm ", " postrm ", " conffiles "} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I lacks %q:\n%s", want, info)
		}
	}
	if cf := runTool(t, "dpkg-deb", "-I", deb, "conffiles"); strings.TrimSpace(cf) != "/etc/default/dealerdesk" {
		t.Errorf("conffiles: %q", cf)
	}
	tarball := runTool(t, "dpkg-deb", "--fsys-tarfile", deb) // tar stores the unit file as plain text
	if !strings.Contains(tarball, "ExecStart=/usr/bin/dealerdesk serve --data /var/lib/dealerdesk") {
		t.Error("unit in the .deb lacks the ExecStart line")
	}
	postinst := runTool(t, "dpkg-deb", "-I", deb, "postinst")
	for _, want := range []string{"useradd --system", "chmod 0750 /var/lib/dealerdesk", "systemctl enable --now dealerdesk.service", "systemctl restart dealerdesk.service"} {
		if !strings.Contains(postinst, want) {
			t.Errorf("postinst lacks %q", want)
		}
	}

	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dealerdesk-linux-amd64", filepath.Base(deb)} {
		if !regexp.MustCompile(`(?m)^[0-9a-f]{64}  ` + regexp.QuoteMeta(name) + `$`).Match(sums) {
			t.Errorf("SHA256SUMS lacks %s:\n%s", name, sums)
		}
	}
	check := exec.Command("sha256sum", "--check", "--quiet", "SHA256SUMS")
	check.Dir = dist
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("sha256sum --check: %v\n%s", err, out)
	}
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

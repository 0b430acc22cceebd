package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"os/user"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kardianos/service"
	"gopkg.in/natefinch/lumberjack.v2"

	"dealerdesk/app"
)

// The service as the operating system knows it. One machine runs one DealerDesk,
// so the name is fixed: the .deb's unit, install.cmd and the docs all say "dealerdesk".
const (
	serviceName        = "dealerdesk"
	serviceDisplayName = "DealerDesk 经销商管理系统"
	serviceDescription = "DealerDesk dealership management system: web UI and API for this store. " +
		"DealerDesk 汽车经销商管理系统：本店的网页界面与数据服务。"

	// serviceStopWait is how long Stop waits for serve to return: serve gives requests
	// in flight 30 s (srv.Shutdown), then closes the database. The systemd unit's
	// TimeoutStopSec is 40 s, above this.
	serviceStopWait = 35 * time.Second

	// serviceLogFile is the rotating log under the data dir when running as a service
	// (a Windows service has no console; under systemd the journal gets a copy too).
	serviceLogFile = "dealerdesk.log"
)

const serviceUsage = `Usage: dealerdesk service COMMAND

  install --data DIR [--addr :8090] [--tls-self-signed | --tls-cert F --tls-key F] [--user NAME]
            register DealerDesk with the system (Windows service / systemd unit) so it
            starts at boot; on Windows a relative or empty --data means next to dealerdesk.exe
  uninstall remove the service (the data directory stays)
  start | stop | restart
  status    print running, stopped or not installed
  run       what the service manager starts (serve flags; logs to DIR/logs/dealerdesk.log)

Installing, removing, starting and stopping need administrator rights
(an elevated prompt on Windows, sudo on Linux).
`

func serviceCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(stdout, serviceUsage)
			return nil
		}
		return errors.New("say what to do: install, uninstall, start, stop, restart, status or run (see dealerdesk service --help)")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "install":
		return serviceInstall(args, stdout, stderr)
	case "run":
		return serviceRun(ctx, args, stdout, stderr)
	case "uninstall", "start", "stop", "restart", "status":
		fl := flag.NewFlagSet("dealerdesk service "+sub, flag.ContinueOnError)
		fl.SetOutput(stderr)
		if err := fl.Parse(args); err != nil {
			return err
		}
		if fl.NArg() > 0 {
			return fmt.Errorf("service %s takes no arguments (got %q)", sub, fl.Args())
		}
		return serviceControl(sub, stdout)
	case "help":
		fmt.Fprint(stdout, serviceUsage)
		return nil
	default:
		return fmt.Errorf("unknown service command %q (install, uninstall, start, stop, restart, status or run)", sub)
	}
}

// installFlags are the choices of "service install".
type installFlags struct {
	Data          string // as typed; resolved by serviceConfig
	Addr          string
	TLSSelfSigned bool
	TLSCert       string
	TLSKey        string
	User          string // Linux: the account the unit runs as
	Cwd           string // where the command was typed (Linux resolves a relative --data against it)
}

// serviceConfig builds what "service install" registers, for goos (a parameter so
// tests check the Windows result on Linux). exePath is the absolute path of this binary.
// The service runs "service run --data <abs> --addr <addr> …": every path is absolute,
// because a Windows service starts in C:\Windows\System32.
func serviceConfig(goos, exePath string, f installFlags) (*service.Config, error) {
	data, err := resolvePath(goos, exePath, f.Cwd, f.Data, "data")
	if err != nil {
		return nil, err
	}
	if f.Addr == "" {
		f.Addr = ":8090"
	}
	_, port, err := net.SplitHostPort(f.Addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %q is not host:port (e.g. :8090, or 192.168.1.10:8090)", f.Addr)
	}
	pn, err := strconv.Atoi(port)
	if err != nil || pn < 1 || pn > 65535 {
		return nil, fmt.Errorf("--addr %q: the port must be a number from 1 to 65535", f.Addr)
	}
	args := []string{"service", "run", "--data", data, "--addr", f.Addr}
	if (f.TLSCert == "") != (f.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if f.TLSSelfSigned && f.TLSCert != "" {
		return nil, errors.New("choose --tls-cert/--tls-key or --tls-self-signed, not both")
	}
	if f.TLSSelfSigned {
		args = append(args, "--tls-self-signed")
	}
	if f.TLSCert != "" {
		cert, err := resolvePath(goos, exePath, f.Cwd, f.TLSCert, "tls-cert")
		if err != nil {
			return nil, err
		}
		key, err := resolvePath(goos, exePath, f.Cwd, f.TLSKey, "tls-key")
		if err != nil {
			return nil, err
		}
		args = append(args, "--tls-cert", cert, "--tls-key", key)
	}
	c := &service.Config{
		Name:        serviceName,
		DisplayName: serviceDisplayName,
		Description: serviceDescription,
		Executable:  exePath,
		Arguments:   args,
	}
	switch goos {
	case "windows":
		if f.User != "" {
			return nil, errors.New("--user is for Linux; on Windows the service runs as LocalSystem (change it in services.msc if you must)")
		}
		c.Option = service.KeyValue{
			"StartType":        "automatic",
			"DelayedAutoStart": true, // after boot, once the network and disks are up
			"OnFailure":        "restart",
			// Wait a little between restarts so a persistent failure (port taken) does
			// not spin; the failure count resets after a day without failures.
			"OnFailureDelayDuration": "10s",
			"OnFailureResetPeriod":   86400,
		}
	default:
		if f.User != "" && !validUnixName(f.User) {
			return nil, fmt.Errorf("--user %q is not a valid account name", f.User)
		}
		for _, p := range append([]string{data}, c.Arguments...) {
			if strings.ContainsAny(p, "\"\\%${}\n\r\t") {
				return nil, fmt.Errorf("%q: choose a path without quotes, backslashes or any of %% $ { } (systemd would read them as specials)", p)
			}
		}
		c.UserName = f.User
		c.Option = service.KeyValue{
			"Restart":       "on-failure",
			"LimitNOFILE":   65536,
			"SystemdScript": systemdUnit(data, pn < 1024 && f.User != ""),
		}
	}
	return c, nil
}

// systemdUnit is the unit "service install" writes on systemd (kardianos's template
// language: {{Key}}, {{range}}, {{if}}). Like the .deb's packaging/systemd/dealerdesk.service
// it sandboxes the server: it may write to its data dir only (and to mounted disks
// under /mnt and /media, where the extra backup copy usually goes).
func systemdUnit(data string, bindLowPort bool) string {
	protectHome := "true"
	for _, home := range []string{"/home", "/root", "/run/user"} {
		if data == home || strings.HasPrefix(data, home+"/") {
			protectHome = "read-only" // ReadWritePaths can open a path under a read-only /home, not under a hidden one
		}
	}
	caps := ""
	if bindLowPort {
		caps = "AmbientCapabilities=CAP_NET_BIND_SERVICE\n"
	}
	return `[Unit]
Description={{Description}}
ConditionFileIsExecutable={{Path | cmdEscape}}
After=network-online.target
Wants=network-online.target
{{range Dependencies}}{{.}}
{{end}}
[Service]
Type=simple
ExecStart={{Path | cmdEscape}}{{range Arguments}} {{. | cmd}}{{end}}
{{if UserName}}User={{UserName}}
{{end}}{{if Restart}}Restart={{Restart}}
{{end}}RestartSec=5
TimeoutStopSec=40
{{if LimitNOFILE}}LimitNOFILE={{LimitNOFILE}}
{{end}}EnvironmentFile=-/etc/default/{{Name}}
{{range EnvVars}}{{.}}
{{end}}` + caps + `NoNewPrivileges=true
ProtectSystem=strict
ReadWritePaths="` + data + `" -/mnt -/media
ProtectHome=` + protectHome + `
PrivateTmp=true
PrivateDevices=true
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectControlGroups=true
RestrictSUIDSGID=true
LockPersonality=true

[Install]
WantedBy=multi-user.target
`
}

var unixName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.-]*\$?$`)

func validUnixName(s string) bool { return len(s) <= 32 && unixName.MatchString(s) }

// resolvePath makes a path flag absolute for goos. On Windows a relative or empty
// value is taken next to the executable (an empty --data means <exe dir>\data),
// because the service's working directory is C:\Windows\System32. Elsewhere it is
// resolved against cwd, and an empty --data is an error.
func resolvePath(goos, exePath, cwd, p, name string) (string, error) {
	if goos == "windows" {
		if p == "" {
			if name != "data" {
				return "", fmt.Errorf("--%s is empty", name)
			}
			p = "data"
		}
		if winIsAbs(p) {
			return winClean(p), nil
		}
		if (len(p) >= 2 && p[1] == ':') || strings.HasPrefix(p, `\`) || strings.HasPrefix(p, "/") {
			return "", fmt.Errorf("--%s %q: give a full path such as D:\\DealerDesk\\data, or a folder name to keep it next to dealerdesk.exe", name, p)
		}
		if !winIsAbs(exePath) {
			return "", fmt.Errorf("cannot place --%s next to the executable: %q is not a full path", name, exePath)
		}
		return winClean(winDir(exePath) + `\` + p), nil
	}
	if p == "" {
		return "", fmt.Errorf("--%s is required, e.g. --data /var/lib/dealerdesk", name)
	}
	if !path.IsAbs(p) {
		if !path.IsAbs(cwd) {
			return "", fmt.Errorf("--%s %q: give an absolute path", name, p)
		}
		p = path.Join(cwd, p)
	}
	return path.Clean(p), nil
}

func winIsAbs(p string) bool {
	p = strings.ReplaceAll(p, "/", `\`)
	if strings.HasPrefix(p, `\\`) {
		return len(strings.Trim(p, `\`)) > 0
	}
	return len(p) >= 3 && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z') && p[1] == ':' && p[2] == '\\'
}

// winClean is filepath.Clean for Windows paths, usable on any GOOS.
func winClean(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	prefix := ""
	switch {
	case strings.HasPrefix(p, "//"):
		prefix, p = "/", p[1:]
	case len(p) >= 2 && p[1] == ':':
		prefix, p = strings.ToUpper(p[:1])+":", p[2:]
	}
	return strings.ReplaceAll(prefix+path.Clean(p), "/", `\`)
}

func winDir(p string) string {
	p = winClean(p)
	d := p[:max(strings.LastIndex(p, `\`), 0)]
	if strings.HasSuffix(d, ":") {
		d += `\` // C:\dealerdesk.exe is in C:\
	}
	return d
}

// executable is this binary's absolute path, symlinks resolved (so the unit keeps
// working when it was started through a link).
func executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this program's path: %w", err)
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	return filepath.Abs(exe)
}

// nopProgram is the Interface for commands that only talk to the service manager.
type nopProgram struct{}

func (nopProgram) Start(service.Service) error { return nil }
func (nopProgram) Stop(service.Service) error  { return nil }

func newService(p service.Interface, c *service.Config) (service.Service, error) {
	s, err := service.New(p, c)
	if errors.Is(err, service.ErrNoServiceSystemDetected) {
		return nil, errors.New("no service manager found on this machine (systemd, or the Windows service manager); run \"dealerdesk serve\" under your own supervisor instead")
	}
	return s, err
}

func serviceInstall(args []string, stdout, stderr io.Writer) error {
	var f installFlags
	fl := flag.NewFlagSet("dealerdesk service install", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&f.Data, "data", "", `data directory (absolute; on Windows a folder name or nothing means next to dealerdesk.exe, e.g. C:\DealerDesk\data)`)
	fl.StringVar(&f.Addr, "addr", ":8090", "listen address, host:port")
	fl.BoolVar(&f.TLSSelfSigned, "tls-self-signed", false, "serve HTTPS with a generated certificate for this machine's LAN names")
	fl.StringVar(&f.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	fl.StringVar(&f.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	fl.StringVar(&f.User, "user", "", "Linux: the account the service runs as (it gets the data dir); default root")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (flags are --data, --addr, --tls-self-signed, --tls-cert, --tls-key, --user)", fl.Args())
	}
	exe, err := executable()
	if err != nil {
		return err
	}
	f.Cwd, _ = os.Getwd()
	c, err := serviceConfig(runtime.GOOS, exe, f)
	if err != nil {
		return err
	}
	data := argValue(c.Arguments, "--data")
	if err := needAdmin("installing"); err != nil {
		return err
	}
	s, err := newService(nopProgram{}, c)
	if err != nil {
		return err
	}
	if _, err := s.Status(); err == nil || (runtime.GOOS != "windows" && installedHere()) {
		return errors.New(alreadyInstalled())
	}
	uid, gid := -1, -1
	if f.User != "" {
		u, err := user.Lookup(f.User)
		if err != nil {
			return fmt.Errorf("no account %q on this machine: create it first (sudo useradd --system --home-dir %s --shell /usr/sbin/nologin %s) or leave out --user", f.User, data, f.User)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	// The data dir must exist before the first start: systemd's ReadWritePaths refuses
	// a missing path, and the service account must own it.
	if err := os.MkdirAll(filepath.Join(data, "logs"), 0o700); err != nil {
		return fmt.Errorf("create the data directory %s: %w", data, plainErr(err))
	}
	if uid >= 0 {
		// Also what is already there (a data dir used before by hand, as root).
		err := filepath.WalkDir(data, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		})
		if err != nil {
			return fmt.Errorf("give %s to %s: %w", data, f.User, plainErr(err))
		}
	}
	if err := s.Install(); err != nil {
		if isAccessDenied(err) {
			return errAdmin("installing")
		}
		return fmt.Errorf("install the service: %w", err)
	}
	fmt.Fprintf(stdout, "Installed the service %q (%s) on %s.\n", serviceName, serviceDisplayName, s.Platform())
	fmt.Fprintf(stdout, "  program:  %s\n", exe)
	fmt.Fprintf(stdout, "  data:     %s\n", data)
	fmt.Fprintf(stdout, "  address:  %s\n", f.Addr)
	if f.User != "" {
		fmt.Fprintf(stdout, "  runs as:  %s\n", f.User)
	}
	fmt.Fprintf(stdout, "  logs:     %s\n", filepath.Join(data, "logs", serviceLogFile))
	fmt.Fprintf(stdout, "It starts by itself when the computer starts. Start it now with:\n  %s service start\n", startHint(exe))
	u := serviceURL(f.Addr, f.TLSSelfSigned || f.TLSCert != "")
	fmt.Fprintf(stdout, "Then open %s in a browser", u)
	host, port, _ := net.SplitHostPort(f.Addr)
	if ips := lanAddrs(); len(ips) > 0 && (host == "" || host == "0.0.0.0" || host == "::") {
		scheme := strings.SplitN(u, ":", 2)[0]
		fmt.Fprintf(stdout, " (other computers and phones: %s://%s:%s)", scheme, ips[0], port)
	}
	fmt.Fprintln(stdout, ".")
	return nil
}

// argValue is the value after flag name in args ("" if absent).
func argValue(args []string, name string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

func startHint(exe string) string {
	if runtime.GOOS == "windows" {
		if strings.Contains(exe, " ") {
			return `"` + exe + `"`
		}
		return exe
	}
	return "sudo " + exe
}

func serviceURL(addr string, tls bool) string {
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func serviceControl(sub string, stdout io.Writer) error {
	s, err := newService(nopProgram{}, &service.Config{Name: serviceName, DisplayName: serviceDisplayName})
	if err != nil {
		return err
	}
	st, stErr := s.Status()
	if stErr != nil && !installedHere() {
		stErr = service.ErrNotInstalled // SysV and others report a missing service as a failed command
	}
	if sub == "status" {
		switch {
		case errors.Is(stErr, service.ErrNotInstalled):
			fmt.Fprintf(stdout, "%s: not installed\n", serviceName)
		case stErr != nil && strings.Contains(stErr.Error(), "failed state"):
			fmt.Fprintf(stdout, "%s: stopped after a failure (see journalctl -u %s and the log file in the data dir)\n", serviceName, serviceName)
		case stErr != nil:
			if isAccessDenied(stErr) {
				return errAdmin("reading the service status")
			}
			return fmt.Errorf("ask the service manager: %w", stErr)
		case st == service.StatusRunning:
			fmt.Fprintf(stdout, "%s: running\n", serviceName)
		case st == service.StatusStopped:
			fmt.Fprintf(stdout, "%s: stopped\n", serviceName)
		default:
			fmt.Fprintf(stdout, "%s: unknown\n", serviceName)
		}
		return nil
	}
	if errors.Is(stErr, service.ErrNotInstalled) {
		return fmt.Errorf("the %s service is not installed (install it with: dealerdesk service install --data DIR)", serviceName)
	}
	verb := map[string]string{"uninstall": "removing", "start": "starting", "stop": "stopping", "restart": "restarting"}[sub]
	if err := needAdmin(verb); err != nil {
		return err
	}
	switch sub {
	case "uninstall":
		if debUnit() != "" && !fileExists("/etc/systemd/system/"+serviceName+".service") {
			return fmt.Errorf("the %s service belongs to the dealerdesk package (%s): remove it with \"sudo apt remove dealerdesk\" (the data stays)", serviceName, debUnit())
		}
		if st == service.StatusRunning {
			if err := s.Stop(); err != nil {
				return controlErr("stop", err)
			}
		}
		if err := s.Uninstall(); err != nil {
			return controlErr("remove", err)
		}
		fmt.Fprintf(stdout, "Removed the %s service. The data directory was left in place, with its backups and logs; delete it yourself only when you no longer need the data.\n", serviceName)
	case "start":
		if err := s.Start(); err != nil {
			return controlErr("start", err)
		}
		fmt.Fprintf(stdout, "%s started. If the page does not open, look at the log file in the data dir (logs/%s).\n", serviceName, serviceLogFile)
	case "stop":
		if err := s.Stop(); err != nil {
			return controlErr("stop", err)
		}
		fmt.Fprintf(stdout, "%s stopped.\n", serviceName)
	case "restart":
		if err := s.Restart(); err != nil {
			return controlErr("restart", err)
		}
		fmt.Fprintf(stdout, "%s restarted.\n", serviceName)
	}
	return nil
}

func controlErr(verb string, err error) error {
	if isAccessDenied(err) {
		return errAdmin(map[string]string{"stop": "stopping", "start": "starting", "remove": "removing", "restart": "restarting"}[verb] + " the service")
	}
	return fmt.Errorf("%s the service: %w", verb, err)
}

func errAdmin(doing string) error {
	if runtime.GOOS == "windows" {
		return fmt.Errorf("%s needs administrator rights: run this in an elevated prompt (right-click Command Prompt → Run as administrator)", doing)
	}
	return fmt.Errorf("%s needs administrator rights: run it with sudo", doing)
}

// needAdmin fails early on Unix when not root, instead of half-writing a unit.
func needAdmin(doing string) error {
	if runtime.GOOS != "windows" && os.Geteuid() != 0 {
		return errAdmin(doing + " a service")
	}
	return nil
}

func isAccessDenied(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, fs.ErrPermission) {
		return true
	}
	// ERROR_ACCESS_DENIED (5) from the Windows service manager.
	if runtime.GOOS == "windows" && errors.Is(err, syscall.Errno(5)) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "access is denied") || strings.Contains(msg, "access denied") ||
		strings.Contains(msg, "permission denied") || strings.Contains(msg, "authentication required")
}

func plainErr(err error) error {
	if isAccessDenied(err) {
		return errors.New("permission denied (run as administrator / with sudo)")
	}
	return err
}

func alreadyInstalled() string {
	if u := debUnit(); u != "" {
		return fmt.Sprintf("the %s service is already installed by the dealerdesk package (%s): manage it with systemctl, and its settings in /etc/default/dealerdesk", serviceName, u)
	}
	return fmt.Sprintf("a service named %s is already installed: to change it, run \"dealerdesk service uninstall\" first (the data stays), then install again", serviceName)
}

// debUnit is the unit file the .deb installs, if it is there.
func debUnit() string {
	if runtime.GOOS != "linux" {
		return ""
	}
	for _, p := range []string{"/lib/systemd/system/", "/usr/lib/systemd/system/"} {
		if fileExists(p + serviceName + ".service") {
			return p + serviceName + ".service"
		}
	}
	return ""
}

// installedHere reports whether a service definition named dealerdesk exists (always
// true on Windows, where the service manager's own answer is exact).
func installedHere() bool {
	if runtime.GOOS == "windows" {
		return true
	}
	for _, p := range []string{"/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/"} {
		if fileExists(p + serviceName + ".service") {
			return true
		}
	}
	return fileExists("/etc/init.d/"+serviceName) || fileExists("/etc/init/"+serviceName+".conf") || fileExists("/etc/rc.d/"+serviceName)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// serviceRun is what the service manager starts: serve, stopped by the manager's
// Stop (SCM stop, SIGTERM) with the same graceful shutdown as Ctrl+C. When no one
// watches a console (service.Interactive() false, or the hidden --log-file), it logs
// to <data>/logs/dealerdesk.log, rotated.
func serviceRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	forceFile, args := takeBoolFlag(args, "log-file")
	dataArg, args, err := takeStringFlag(args, "data")
	if err != nil {
		return err
	}
	if dataArg == "" {
		dataArg = os.Getenv("DEALERDESK_DATA")
	}
	exe, err := executable()
	if err != nil {
		return err
	}
	cwd, _ := os.Getwd()
	if dataArg == "" && runtime.GOOS != "windows" {
		dataArg = "data" // serve's default ./data, made absolute
	}
	data, err := resolvePath(runtime.GOOS, exe, cwd, dataArg, "data")
	if err != nil {
		return err
	}
	data = filepath.FromSlash(data)
	serveArgs := append([]string{"--data", data}, args...)

	interactive := service.Interactive()
	logPath := ""
	logOut, consoleOut := stderr, stdout
	if forceFile || !interactive {
		logPath = filepath.Join(data, "logs", serviceLogFile)
		if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
			return fmt.Errorf("create the log directory: %w", err)
		}
		lj := &lumberjack.Logger{Filename: logPath, MaxSize: 10, MaxBackups: 10, MaxAge: 30, Compress: true, LocalTime: true}
		defer lj.Close()
		logOut = lj
		if !interactive && runtime.GOOS != "windows" {
			// systemd: the journal keeps a copy (journalctl -u dealerdesk).
			logOut = io.MultiWriter(lj, stderr)
		}
	}
	log := slog.New(slog.NewTextHandler(logOut, nil))
	if logPath != "" {
		// What serve prints for a person at a console becomes log lines, with the
		// first-run setup token left out (it is in <data>/setup-token).
		consoleOut = &lineLog{log: log}
	}

	p := &program{
		log:  log,
		data: data,
		serve: func(ctx context.Context) error {
			return serve(ctx, serveArgs, consoleOut, logOut)
		},
		parent:      context.WithoutCancel(ctx),
		interactive: interactive,
		logPath:     logPath,
	}
	c := &service.Config{Name: serviceName, DisplayName: serviceDisplayName, Option: service.KeyValue{
		// Unix service managers: return from Run on SIGTERM, Ctrl+C, the caller's
		// cancel, or when serve ends by itself (then the exit code is 1 and systemd's
		// Restart=on-failure restarts it). Windows ignores this option.
		"RunWait": func() {
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
			defer signal.Stop(sig)
			select {
			case <-sig:
			case <-ctx.Done():
			case <-p.done:
			}
		},
	}}
	s, err := service.New(p, c)
	if err != nil {
		// No service manager detected (a container): run in the foreground, the same way.
		if err := p.Start(nil); err != nil {
			return err
		}
		c.Option["RunWait"].(func())()
		return p.Stop(nil)
	}
	p.platform = s.Platform()
	if l, err := s.Logger(nil); err == nil {
		p.sys = l
	}
	return s.Run()
}

// program runs serve under a service manager.
type program struct {
	serve       func(ctx context.Context) error
	parent      context.Context
	log         *slog.Logger
	sys         service.Logger // the Windows Event Log / syslog; nil when unavailable
	data        string
	logPath     string
	platform    string
	interactive bool

	cancel  context.CancelFunc
	done    chan struct{}
	err     error // serve's result, set before done is closed
	started time.Time
	mu      sync.Mutex
}

// Start starts serve and returns at once: the Windows service manager expects
// Start to return within seconds, and migrations or a pre-upgrade backup may take longer.
func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(p.parent)
	p.mu.Lock()
	p.cancel, p.done, p.started = cancel, make(chan struct{}), time.Now()
	done := p.done
	p.mu.Unlock()
	p.log.Info("service starting", "version", app.Version, "data", p.data, "pid", os.Getpid(),
		"platform", p.platform, "interactive", p.interactive)
	go func() {
		err := p.serve(ctx)
		if ctx.Err() == nil {
			// serve ended without being asked: a start failure (port taken, database
			// newer than this program) or a crash of the listener.
			if err == nil {
				err = errors.New("the server stopped by itself")
			}
			p.fail(err)
		}
		p.err = err
		close(done)
	}()
	return nil
}

func (p *program) fail(err error) {
	p.log.Error("service failed", "err", err)
	if p.sys != nil {
		where := p.logPath
		if where == "" {
			where = "the console output"
		}
		_ = p.sys.Errorf("DealerDesk stopped with an error: %v (details: %s)", err, where)
	}
	if runtime.GOOS == "windows" {
		// End the process without reporting "stopped", so the service manager counts
		// a failure and applies the recovery action (restart after 10 s).
		os.Exit(1)
	}
}

// Stop asks serve to finish the requests in flight and waits for it to return.
func (p *program) Stop(service.Service) error {
	p.mu.Lock()
	cancel, done, started := p.cancel, p.done, p.started
	p.mu.Unlock()
	stopAt := time.Now()
	select {
	case <-done:
		return p.err // serve had already ended (fail logged it)
	default:
	}
	p.log.Info("service stopping")
	cancel()
	select {
	case <-done:
	case <-time.After(serviceStopWait):
		err := fmt.Errorf("the server did not stop within %s", serviceStopWait)
		p.log.Error("service stop timed out", "err", err)
		if p.sys != nil {
			_ = p.sys.Errorf("DealerDesk: %v", err)
		}
		return err
	}
	if p.err != nil {
		p.log.Error("service stopped with an error", "err", p.err)
		if p.sys != nil {
			_ = p.sys.Errorf("DealerDesk stopped with an error: %v", p.err)
		}
		return p.err
	}
	p.log.Info("service stopped", "stop_ms", time.Since(stopAt).Milliseconds(), "uptime", time.Since(started).Round(time.Second).String())
	return nil
}

// lineLog turns console lines into log records, leaving secrets out.
type lineLog struct {
	mu  sync.Mutex
	buf []byte
	log *slog.Logger
}

var setupTokenRe = regexp.MustCompile(`(?i)(setup token[:=]?\s+)\S+`)

func (w *lineLog) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
		if line != "" {
			w.log.Info(setupTokenRe.ReplaceAllString(line, "${1}[in the setup-token file]"))
		}
	}
	return len(b), nil
}

// takeBoolFlag removes a boolean flag (-name, --name, --name=true|false) from args.
func takeBoolFlag(args []string, name string) (bool, []string) {
	var on bool
	rest := make([]string, 0, len(args))
	for _, a := range args {
		n := strings.TrimLeft(a, "-")
		switch {
		case a != n && n == name:
			on = true
		case a != n && strings.HasPrefix(n, name+"="):
			on, _ = strconv.ParseBool(strings.TrimPrefix(n, name+"="))
		default:
			rest = append(rest, a)
		}
	}
	return on, rest
}

// takeStringFlag removes a string flag (-name V, --name V, --name=V) from args; the
// last one wins, as with package flag.
func takeStringFlag(args []string, name string) (string, []string, error) {
	var v string
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		n := strings.TrimLeft(a, "-")
		switch {
		case a != n && n == name:
			if i+1 >= len(args) {
				return "", nil, fmt.Errorf("flag --%s needs a value", name)
			}
			v = args[i+1]
			i++
		case a != n && strings.HasPrefix(n, name+"="):
			v = strings.TrimPrefix(n, name+"=")
		default:
			rest = append(rest, a)
		}
	}
	return v, rest, nil
}

// Package config holds the bootstrap configuration only: where the data lives, what
// address to listen on, TLS and logging. Precedence: flag > environment variable
// DEALERDESK_* > config file > default. Every business setting lives in the
// database and is edited in the UI.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/peterbourgon/ff/v3"
)

// Config is the bootstrap configuration.
type Config struct {
	DataDir       string // database, files, backups, logs
	Addr          string // listen address
	TLSCert       string
	TLSKey        string
	TLSSelfSigned bool   // generate a LAN certificate under the data dir
	LogLevel      string // debug, info, warn, error
	ConfigFile    string
}

// Defaults returns the defaults. 8090, because 8080 is often taken on store PCs.
func Defaults() Config {
	return Config{DataDir: "./data", Addr: ":8090", LogLevel: "info"}
}

// Register adds the flags of the fields a command uses to fs.
func (c *Config) Register(fs *flag.FlagSet, serve bool) {
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory: database, uploaded files, backups and logs (env DEALERDESK_DATA)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error (env DEALERDESK_LOG_LEVEL)")
	fs.StringVar(&c.ConfigFile, "config", "", "optional config file with one 'name value' per line, e.g. 'addr :8443' (env DEALERDESK_CONFIG)")
	if serve {
		fs.StringVar(&c.Addr, "addr", c.Addr, "listen address, host:port (env DEALERDESK_ADDR)")
		fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM) to serve HTTPS (env DEALERDESK_TLS_CERT)")
		fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file (PEM) (env DEALERDESK_TLS_KEY)")
		fs.BoolVar(&c.TLSSelfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate for this machine's LAN names, kept in the data dir (env DEALERDESK_TLS_SELF_SIGNED)")
	}
}

// Parse parses args into fs with the environment and the config file.
func Parse(fs *flag.FlagSet, args []string) error {
	return ff.Parse(fs, args,
		ff.WithEnvVarPrefix("DEALERDESK"),
		ff.WithConfigFileFlag("config"),
		ff.WithConfigFileParser(ff.PlainParser),
	)
}

// Validate checks the values and makes the data dir absolute.
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("config: --data must not be empty"))
	} else if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	if c.Addr != "" {
		if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("config: --addr %q is not host:port (e.g. :8090)", c.Addr))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("config: --tls-cert and --tls-key go together"))
	}
	if c.TLSSelfSigned && c.TLSCert != "" {
		errs = append(errs, errors.New("config: choose --tls-cert/--tls-key or --tls-self-signed, not both"))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("config: --log-level %q is not debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// DBPath is the database file.
func (c Config) DBPath() string { return filepath.Join(c.DataDir, "dealerdesk.db") }

// EnsureDataDir creates the data directory (private to the service account).
func (c Config) EnsureDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("config: create data dir %s: %w", c.DataDir, err)
	}
	return nil
}

// Dump returns the configuration as name=value lines, with nothing secret in it
// (the TLS key path is a path, not the key).
func (c Config) Dump() string {
	return fmt.Sprintf("data=%s\naddr=%s\ntls-cert=%s\ntls-key=%s\ntls-self-signed=%t\nlog-level=%s\nconfig=%s\n",
		c.DataDir, c.Addr, c.TLSCert, c.TLSKey, c.TLSSelfSigned, c.LogLevel, c.ConfigFile)
}

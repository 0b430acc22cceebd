// Command dealerdesk is the DealerDesk dealership management appliance: one binary
// that serves the web UI and API, and administers its own data directory.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"dealerdesk/app/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

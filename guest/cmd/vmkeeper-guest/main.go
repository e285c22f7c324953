// Command vmkeeper-guest is the vmkeeper guest agent: it answers the host's heartbeat
// challenges over virtio-serial with the guest's aggregated health (health-check commands
// and applications reporting over a local unix socket) and relays votes on pending actions.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"vmkeeper.dev/guest/internal/agent"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "vmkeeper-guest: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	logger := log.New(stderr, "vmkeeper-guest: ", 0)
	if err := agent.New(cfg, logger).Run(ctx); err != nil {
		fmt.Fprintf(stderr, "vmkeeper-guest: %v\n", err)
		return 1
	}
	return 0
}

func parse(args []string, stderr io.Writer) (agent.Config, error) {
	fs := flag.NewFlagSet("vmkeeper-guest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "JSON config file (see guest/README.md); flags override its fields")
	port := fs.String("port", "", "virtio-serial port, or a unix socket for tests (default "+agent.DefaultPort+")")
	socket := fs.String("socket", "", "local application socket (default "+agent.DefaultSocket+")")
	interval := fs.Int("interval-ms", -1, "requested heartbeat interval, 400..60000 (default: the host's)")
	threshold := fs.Int("threshold", -1, "requested missed-challenge threshold, 1..20 (default: the host's)")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return agent.Config{}, err
	}
	if *version {
		fmt.Fprintln(stderr, "vmkeeper-guest", agent.Version)
		return agent.Config{}, flag.ErrHelp
	}
	if fs.NArg() > 0 {
		return agent.Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg := agent.DefaultConfig()
	if *configPath != "" {
		var err error
		if cfg, err = agent.LoadConfig(*configPath); err != nil {
			return cfg, err
		}
	}
	if *port != "" {
		cfg.Port = *port
	}
	if *socket != "" {
		cfg.Socket = *socket
	}
	if *interval >= 0 {
		cfg.IntervalMs = *interval
	}
	if *threshold >= 0 {
		cfg.Threshold = *threshold
	}
	return cfg, cfg.Validate()
}

// Package agent is the I/O around the guest core: the virtio-serial port, the local
// application socket, health-check commands and the timers.
package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
)

// Defaults of the guest agent.
const (
	DefaultPort   = "/dev/virtio-ports/org.vmkeeper.heartbeat.0"
	DefaultSocket = "/run/vmkeeper-guest.sock"
)

// Check is one health-check command.
type Check struct {
	Name string `json:"name"`
	// Command is argv; it is run directly, not through a shell.
	Command    []string `json:"command"`
	IntervalMs int      `json:"intervalMs"`
	TimeoutMs  int      `json:"timeoutMs"`
	// FailuresBeforeUnhealthy is the number of consecutive failures that make the check fail.
	FailuresBeforeUnhealthy int `json:"failuresBeforeUnhealthy"`
}

// Config of the guest agent (the JSON config file; flags override the scalar fields).
type Config struct {
	Port        string  `json:"port"`
	Socket      string  `json:"socket"`
	SocketMode  string  `json:"socketMode"`
	IntervalMs  int     `json:"intervalMs"`
	Threshold   int     `json:"threshold"`
	ReconnectMs int     `json:"reconnectMs"`
	Checks      []Check `json:"checks"`
	// ServerGroupMessaging announces the sgm group to the host (default true).
	ServerGroupMessaging bool `json:"serverGroupMessaging"`
}

// DefaultConfig is the configuration with no file and no flags.
func DefaultConfig() Config {
	return Config{Port: DefaultPort, Socket: DefaultSocket, SocketMode: "0660", ReconnectMs: 1000, Checks: []Check{}, ServerGroupMessaging: true}
}

// LoadConfig reads a JSON config file over the defaults. Unknown fields are errors, so a
// typo does not silently disable a check.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	f, err := os.Open(path)
	if err != nil {
		return cfg, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

var reCheckName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Validate fills defaults of checks and reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if c.Port == "" {
		errs = append(errs, errors.New("port: required"))
	}
	if c.Socket == "" {
		errs = append(errs, errors.New("socket: required"))
	}
	if m, err := strconv.ParseUint(c.SocketMode, 8, 32); err != nil || m > 0o777 {
		errs = append(errs, fmt.Errorf("socketMode: %q is not an octal file mode", c.SocketMode))
	}
	if c.IntervalMs != 0 && (c.IntervalMs < 400 || c.IntervalMs > 60000) {
		errs = append(errs, fmt.Errorf("intervalMs: %d is outside 400..60000 (0 = host default)", c.IntervalMs))
	}
	if c.Threshold != 0 && (c.Threshold < 1 || c.Threshold > 20) {
		errs = append(errs, fmt.Errorf("threshold: %d is outside 1..20 (0 = host default)", c.Threshold))
	}
	if c.ReconnectMs < 10 {
		errs = append(errs, fmt.Errorf("reconnectMs: %d is below 10", c.ReconnectMs))
	}
	seen := map[string]bool{}
	for i := range c.Checks {
		errs = append(errs, c.Checks[i].validate(i, seen)...)
	}
	return errors.Join(errs...)
}

func (ch *Check) validate(i int, seen map[string]bool) []error {
	var errs []error
	at := fmt.Sprintf("checks[%d]", i)
	if !reCheckName.MatchString(ch.Name) {
		errs = append(errs, fmt.Errorf("%s.name: %q must match [A-Za-z0-9._-]{1,64}", at, ch.Name))
	} else if seen[ch.Name] {
		errs = append(errs, fmt.Errorf("%s.name: duplicate %q", at, ch.Name))
	}
	seen[ch.Name] = true
	if len(ch.Command) == 0 || ch.Command[0] == "" {
		errs = append(errs, fmt.Errorf("%s.command: required (argv list)", at))
	}
	if ch.IntervalMs == 0 {
		ch.IntervalMs = 10000
	}
	if ch.TimeoutMs == 0 {
		ch.TimeoutMs = 5000
	}
	if ch.FailuresBeforeUnhealthy == 0 {
		ch.FailuresBeforeUnhealthy = 1
	}
	if ch.IntervalMs < 100 || ch.TimeoutMs < 10 || ch.FailuresBeforeUnhealthy < 1 {
		errs = append(errs, fmt.Errorf("%s: intervalMs >= 100, timeoutMs >= 10, failuresBeforeUnhealthy >= 1", at))
	}
	return errs
}

// Package core is the guest side of the heartbeat protocol as a pure state machine: it
// takes lines, local events and the current monotonic time, and returns the lines to send
// to the host and the messages to push to local applications. It does no I/O and keeps
// no clock of its own, so every rule is testable on a virtual clock.
package core

import (
	"sort"
	"strings"

	"vmkeeper.dev/guest/internal/wire"
)

// State of the guest's session with the host.
type State string

const (
	// Idle: no channel to the host (not started, or the port is closed); no timers run.
	Idle         State = "Idle"
	Initialising State = "Initialising"
	Active       State = "Active"
	Stopped      State = "Stopped"
)

// DefaultInitRetryMs is how often init is repeated until the host acknowledges it.
const DefaultInitRetryMs = 2000

// Config of a Core. IntervalMs and Threshold are requests (0 = no request).
type Config struct {
	Agent       string
	BootID      string
	IntervalMs  int
	Threshold   int
	InitRetryMs int
	// SGM announces the server-group messaging group in init.
	SGM bool
}

// AppMessage is a message pushed to one local application.
type AppMessage struct {
	App string
	Msg map[string]any
}

// Output is what one call asks the caller to do.
type Output struct {
	Wire [][]byte     // lines for the host, newline included
	Apps []AppMessage // pushes to local applications
}

func (o *Output) send(line []byte) { o.Wire = append(o.Wire, line) }

type check struct {
	ok     bool
	reason string
}

type app struct {
	critical  bool
	connected bool
	healthy   bool
	failed    bool
	reason    string
}

type pending struct {
	notify   wire.ActionNotify
	awaiting map[string]bool
	voteAt   int64
}

// Core is the guest state machine. It is not safe for concurrent use.
type Core struct {
	cfg             Config
	state           State
	intervalMs      int
	threshold       int
	nextInitAt      int64
	lastChallengeAt int64
	checks          map[string]check
	apps            map[string]*app
	pending         map[string]*pending
	counters        map[string]int64
	sgm             sgmState
}

// New returns a Core in state Idle; call Start once the port is open.
func New(cfg Config) *Core {
	if cfg.InitRetryMs <= 0 {
		cfg.InitRetryMs = DefaultInitRetryMs
	}
	c := &Core{cfg: cfg, state: Idle, checks: map[string]check{}, apps: map[string]*app{}, pending: map[string]*pending{}, counters: map[string]int64{}, sgm: newSGMState()}
	for _, name := range CounterNames {
		c.counters[name] = 0
	}
	return c
}

// CounterNames are every counter the guest exposes (all start at 0).
var CounterNames = []string{
	"linesReceived", wire.ErrMalformed, "oversize", wire.ErrUnknownVersion, wire.ErrUnknownGroup, wire.ErrUnhandledGroup,
	wire.ErrUnknownType, wire.ErrUnexpected, wire.ErrInvalidBody, "errorsReceived", "initsSent", "sessions",
	"challengesAnswered", "hostSilent", "actionsReceived", "votesSent", "localMalformed", "localOversize", "sendDropped",
	"sgmSent", "sgmReceived", "sgmErrors",
}

// Start sends the first init.
func (c *Core) Start(now int64) Output {
	var out Output
	if c.state == Stopped {
		return out
	}
	c.sendInit(&out, now)
	return out
}

func (c *Core) sendInit(out *Output, now int64) {
	c.state = Initialising
	c.sgm.negotiated = false
	c.nextInitAt = now + int64(c.cfg.InitRetryMs)
	c.counters["initsSent"]++
	groups := []string{wire.GroupHeartbeat}
	if c.cfg.SGM {
		groups = append(groups, wire.GroupSGM)
	}
	out.send(wire.Encode(wire.GroupHeartbeat, wire.TypeInit, wire.Init{
		Agent: c.cfg.Agent, BootID: c.cfg.BootID, IntervalMs: c.cfg.IntervalMs, Threshold: c.cfg.Threshold, Groups: groups,
	}))
}

// PortClosed returns the core to Idle when the channel to the host is lost; pending votes
// are forgotten (the host resolves them as NoSession).
func (c *Core) PortClosed() {
	if c.state != Stopped {
		c.state = Idle
	}
	c.sgm.negotiated = false
	c.pending = map[string]*pending{}
}

// Oversize records a line the framer discarded.
func (c *Core) Oversize() {
	c.counters["linesReceived"]++
	c.counters["oversize"]++
}

// Count increments a counter by name (used by the I/O layer for local-socket problems).
func (c *Core) Count(name string) { c.counters[name]++ }

// Receive handles one line from the host (without newline).
func (c *Core) Receive(line []byte, now int64) Output {
	var out Output
	c.counters["linesReceived"]++
	if c.state == Stopped || c.state == Idle {
		c.counters[wire.ErrUnexpected]++
		return out
	}
	p, derr := wire.Decode(line, wire.AsGuest)
	if derr != nil {
		c.counters[derr.Counter]++
		if derr.Counter == wire.ErrUnknownVersion && !derr.IsError {
			out.send(wire.UnknownVersionError(derr.Version))
		}
		return out
	}
	if p.Group == wire.GroupSGM {
		c.onSGM(&out, p)
		return out
	}
	switch p.Type {
	case wire.TypeError:
		c.onError(&out, p.Error, now)
	case wire.TypeInitAck:
		c.onInitAck(p.InitAck, now)
	case wire.TypeChallenge:
		c.onChallenge(&out, p.Challenge, now)
	case wire.TypeExit:
		c.state = Initialising
		c.sgm.negotiated = false
		c.nextInitAt = now + int64(c.cfg.InitRetryMs)
		c.pending = map[string]*pending{}
	case wire.TypeActionNotify:
		c.onActionNotify(&out, p.ActionNotify, now)
	}
	return out
}

func (c *Core) onError(out *Output, e *wire.ErrorBody, now int64) {
	c.counters["errorsReceived"]++
	if e.Code == wire.CodeNoSession {
		c.pending = map[string]*pending{}
		c.sendInit(out, now)
	}
}

func (c *Core) onInitAck(a *wire.InitAck, now int64) {
	if c.state != Initialising {
		c.counters[wire.ErrUnexpected]++
		return
	}
	c.state = Active
	c.sgm.negotiated = c.cfg.SGM && contains(a.Groups, wire.GroupSGM)
	c.intervalMs, c.threshold = a.IntervalMs, a.Threshold
	c.lastChallengeAt = now
	c.counters["sessions"]++
}

func (c *Core) onChallenge(out *Output, ch *wire.Challenge, now int64) {
	c.lastChallengeAt = now
	healthy, reason := c.Health()
	r := wire.Response{Seq: ch.Seq, Nonce: ch.Nonce, Health: wire.Healthy}
	if !healthy {
		r.Health, r.Reason = wire.Unhealthy, reason
	}
	c.counters["challengesAnswered"]++
	out.send(wire.Encode(wire.GroupHeartbeat, wire.TypeResponse, r))
}

// silenceMs is how long an Active guest waits for a challenge before it re-initialises.
func (c *Core) silenceMs() int64 { return int64(c.intervalMs) * int64(c.threshold+1) }

// Tick runs the timers that are due at now.
func (c *Core) Tick(now int64) Output {
	var out Output
	switch c.state {
	case Initialising:
		if now >= c.nextInitAt {
			c.sendInit(&out, now)
		}
	case Active:
		if now >= c.lastChallengeAt+c.silenceMs() {
			c.counters["hostSilent"]++
			c.pending = map[string]*pending{}
			c.sendInit(&out, now)
		}
	}
	for _, id := range c.pendingIDs() {
		if p := c.pending[id]; now >= p.voteAt {
			c.sendVote(&out, id, wire.Accept, "")
		}
	}
	c.expireQueries(&out, now)
	return out
}

// NextDeadline is the earliest time at which Tick has something to do.
func (c *Core) NextDeadline() (int64, bool) {
	var d int64
	have := false
	take := func(t int64) {
		if !have || t < d {
			d, have = t, true
		}
	}
	switch c.state {
	case Initialising:
		take(c.nextInitAt)
	case Active:
		take(c.lastChallengeAt + c.silenceMs())
	}
	for _, p := range c.pending {
		take(p.voteAt)
	}
	for _, q := range c.sgm.queries {
		take(q.deadline)
	}
	return d, have
}

// Shutdown sends exit and stops the session for good.
func (c *Core) Shutdown(reason string) Output {
	var out Output
	if c.state != Stopped {
		out.send(wire.Encode(wire.GroupHeartbeat, wire.TypeExit, wire.Exit{Reason: reason}))
	}
	c.state = Stopped
	c.pending = map[string]*pending{}
	return out
}

// SetCheck records the latest result of a health-check command.
func (c *Core) SetCheck(name string, ok bool, reason string) {
	c.checks[name] = check{ok: ok, reason: reason}
}

// Health aggregates checks and applications: healthy, or unhealthy with a reason that
// names every failing part (sorted), cut to the protocol's reason limit.
func (c *Core) Health() (bool, string) {
	var parts []string
	for _, name := range sortedKeys(c.checks) {
		if ch := c.checks[name]; !ch.ok {
			parts = append(parts, "check "+name+": "+ch.reason)
		}
	}
	for _, name := range sortedKeys(c.apps) {
		a := c.apps[name]
		switch {
		case !a.connected:
			parts = append(parts, "app "+name+": disconnected")
		case a.failed:
			parts = append(parts, "app "+name+": failed: "+a.reason)
		case !a.healthy:
			parts = append(parts, "app "+name+": "+a.reason)
		}
	}
	if len(parts) == 0 {
		return true, ""
	}
	return false, truncate(strings.Join(parts, "; "), wire.MaxReasonBytes)
}

// State is the session state.
func (c *Core) State() State { return c.state }

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c *Core) pendingIDs() []string { return sortedKeys(c.pending) }

package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log"
	"sync"
	"time"

	"vmkeeper.dev/guest/internal/core"
)

// Version of the guest agent, sent in init as vmkeeper-guest/<Version>.
var Version = "0.1.0"

// Agent runs one core against one port and one local socket.
type Agent struct {
	cfg   Config
	log   *log.Logger
	start time.Time

	mu       sync.Mutex // guards core and apps
	core     *core.Core
	apps     map[string]*localConn
	outbound chan []byte
	wake     chan struct{}
}

// New builds an agent; the boot id is random per process start.
func New(cfg Config, logger *log.Logger) *Agent {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		panic(err) // no entropy: nothing sensible to do
	}
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	c := core.New(core.Config{Agent: "vmkeeper-guest/" + Version, BootID: hex.EncodeToString(id), IntervalMs: cfg.IntervalMs, Threshold: cfg.Threshold, SGM: cfg.ServerGroupMessaging})
	return &Agent{cfg: cfg, log: logger, start: time.Now(), core: c, apps: map[string]*localConn{}, outbound: make(chan []byte, 64), wake: make(chan struct{}, 1)}
}

func (a *Agent) now() int64 { return time.Since(a.start).Milliseconds() }

// Run serves until ctx is cancelled, then sends exit and returns.
func (a *Agent) Run(ctx context.Context) error {
	ln, err := listenLocal(a.cfg.Socket, a.cfg.SocketMode)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(3 + len(a.cfg.Checks))
	go func() { defer wg.Done(); a.serveLocal(ctx, ln) }()
	go func() { defer wg.Done(); a.timers(ctx) }()
	for _, ch := range a.cfg.Checks {
		go func(ch Check) { defer wg.Done(); a.runCheck(ctx, ch) }(ch)
	}
	go func() { defer wg.Done(); a.servePort(ctx) }()
	<-ctx.Done()
	_ = ln.Close()
	wg.Wait()
	return nil
}

// with runs f on the core under the lock and dispatches what it returns.
func (a *Agent) with(f func(c *core.Core, now int64) core.Output) {
	a.mu.Lock()
	out := f(a.core, a.now())
	a.dispatchLocked(out)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *Agent) dispatchLocked(out core.Output) {
	for _, line := range out.Wire {
		select {
		case a.outbound <- line:
		default:
			a.core.Count("sendDropped")
		}
	}
	for _, m := range out.Apps {
		if lc := a.apps[m.App]; lc != nil {
			lc.push(m.Msg)
		}
	}
}

// timers calls Tick at the core's next deadline (re-armed after every core call).
func (a *Agent) timers(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		a.mu.Lock()
		d, ok := a.core.NextDeadline()
		wait := time.Hour
		if ok {
			wait = time.Duration(d-a.now()) * time.Millisecond
		}
		a.mu.Unlock()
		if wait < 0 {
			wait = 0
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
			if !t.Stop() {
				<-t.C
			}
		case <-t.C:
			a.with(func(c *core.Core, now int64) core.Output { return c.Tick(now) })
		}
	}
}

// Status returns the core's status snapshot.
func (a *Agent) Status() core.Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.core.Status()
}

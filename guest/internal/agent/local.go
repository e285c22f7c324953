package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"

	"vmkeeper.dev/guest/internal/core"
	"vmkeeper.dev/guest/internal/wire"
)

// listenLocal creates the application socket, replacing a stale socket file.
func listenLocal(path, mode string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	m, _ := strconv.ParseUint(mode, 8, 32)
	if err := os.Chmod(path, os.FileMode(m)); err != nil {
		_ = ln.Close()
		return nil, err
	}
	return ln, nil
}

func (a *Agent) serveLocal(ctx context.Context, ln net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		for c := range conns {
			_ = c.Close()
		}
	})
	defer stop()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		mu.Lock()
		conns[conn] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.serveApp(conn)
			mu.Lock()
			delete(conns, conn)
			mu.Unlock()
		}()
	}
}

// localConn is one application connection; pushes and replies share one ordered queue.
type localConn struct {
	conn net.Conn
	out  chan []byte
	app  string // set once registered
}

func (lc *localConn) push(msg any) {
	b, err := json.Marshal(msg)
	if err != nil {
		return
	}
	select {
	case lc.out <- append(b, '\n'):
	default: // a client that does not read loses pushes rather than blocking the agent
	}
}

func (a *Agent) serveApp(conn net.Conn) {
	lc := &localConn{conn: conn, out: make(chan []byte, 32)}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for b := range lc.out {
			if _, err := conn.Write(b); err != nil {
				_ = conn.Close()
			}
		}
	}()
	framer := wire.NewFramer(wire.MaxLineBytes)
	buf := make([]byte, 4096)
	unregistered := false
	for {
		n, err := conn.Read(buf)
		for _, f := range framer.Push(buf[:n]) {
			unregistered = a.localFrame(lc, f) || unregistered
		}
		if err != nil {
			break
		}
	}
	if lc.app != "" && !unregistered {
		a.with(func(c *core.Core, now int64) core.Output {
			delete(a.apps, lc.app)
			return c.Disconnect(lc.app, false, now)
		})
	}
	close(lc.out)
	<-writerDone
	_ = conn.Close()
}

type request struct {
	Op       string  `json:"op"`
	App      string  `json:"app"`
	Critical bool    `json:"critical"`
	Health   string  `json:"health"`
	Reason   string  `json:"reason"`
	ActionID string  `json:"actionId"`
	Vote     string  `json:"vote"`
	Ref      string  `json:"ref"`
	Payload  *string `json:"payload"`
}

// localFrame handles one request line; it returns true when the app unregistered.
func (a *Agent) localFrame(lc *localConn, f wire.Frame) bool {
	if f.Oversize {
		a.with(func(c *core.Core, _ int64) core.Output { c.Count("localOversize"); return core.Output{} })
		lc.push(map[string]any{"ok": false, "error": "line longer than 4096 bytes"})
		return false
	}
	var req request
	if err := json.Unmarshal(f.Line, &req); err != nil || req.Op == "" {
		a.with(func(c *core.Core, _ int64) core.Output { c.Count("localMalformed"); return core.Output{} })
		lc.push(map[string]any{"ok": false, "error": "expected a JSON object with an op"})
		return false
	}
	if !knownOps[req.Op] {
		a.with(func(c *core.Core, _ int64) core.Output { c.Count("localMalformed"); return core.Output{} })
		lc.push(map[string]any{"ok": false, "op": req.Op, "error": "unknown op " + strconv.Quote(req.Op)})
		return false
	}
	if req.Op == "status" {
		lc.push(map[string]any{"ok": true, "op": "status", "status": a.Status()})
		return false
	}
	var err error
	a.with(func(c *core.Core, now int64) core.Output {
		var out core.Output
		out, err = a.apply(c, lc, req, now)
		return out
	})
	if err != nil {
		reply := map[string]any{"ok": false, "op": req.Op, "error": err.Error()}
		if req.Ref != "" {
			reply["ref"] = req.Ref
		}
		lc.push(reply)
		return false
	}
	if req.Op == "sgm-status" {
		return false // answered when the host's reply arrives (or times out)
	}
	reply := map[string]any{"ok": true, "op": req.Op}
	if req.Ref != "" {
		reply["ref"] = req.Ref
	}
	lc.push(reply)
	return req.Op == "unregister"
}

var knownOps = map[string]bool{"register": true, "health": true, "fail": true, "vote": true, "unregister": true, "status": true, "broadcast": true, "subscribe": true, "unsubscribe": true, "sgm-status": true}

var errRegisterFirst = errors.New("register first")

// apply runs one application request on the core; called under the agent lock.
func (a *Agent) apply(c *core.Core, lc *localConn, req request, now int64) (core.Output, error) {
	if req.Op != "register" && lc.app == "" {
		return core.Output{}, errRegisterFirst
	}
	switch req.Op {
	case "register":
		if lc.app != "" {
			return core.Output{}, errors.New("already registered as " + lc.app)
		}
		if err := c.Register(req.App, req.Critical); err != nil {
			return core.Output{}, err
		}
		lc.app = req.App
		a.apps[req.App] = lc
		return core.Output{}, nil
	case "health":
		if req.Health != wire.Healthy && req.Health != wire.Unhealthy {
			return core.Output{}, errors.New("health must be healthy or unhealthy")
		}
		return core.Output{}, c.AppHealth(lc.app, req.Health == wire.Healthy, false, req.Reason)
	case "fail":
		return core.Output{}, c.AppHealth(lc.app, false, true, req.Reason)
	case "vote":
		if req.Vote != wire.Accept && req.Vote != wire.Refuse {
			return core.Output{}, errors.New("vote must be accept or refuse")
		}
		return c.AppVote(lc.app, req.ActionID, req.Vote == wire.Accept, req.Reason)
	case "broadcast":
		if req.Payload == nil {
			return core.Output{}, core.ErrPayloadNotStr
		}
		return c.Broadcast(lc.app, req.Ref, *req.Payload)
	case "subscribe", "unsubscribe":
		return core.Output{}, c.Subscribe(lc.app, req.Op == "subscribe")
	case "sgm-status":
		return c.QueryStatus(lc.app, req.Ref, now)
	case "unregister":
		delete(a.apps, lc.app)
		out := c.Disconnect(lc.app, true, now)
		lc.app = ""
		return out, nil
	}
	return core.Output{}, errors.New("unknown op " + strconv.Quote(req.Op))
}

package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeHost plays the host end of the virtio port on a unix socket the agent dials.
type fakeHost struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (h *fakeHost) send(line string) {
	h.t.Helper()
	if _, err := h.conn.Write([]byte(line + "\n")); err != nil {
		h.t.Fatal(err)
	}
}

// read returns the next PDU the agent sent, as generic JSON.
func (h *fakeHost) read() map[string]any {
	h.t.Helper()
	_ = h.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := h.r.ReadString('\n')
	if err != nil {
		h.t.Fatalf("reading from the agent: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		h.t.Fatalf("agent sent invalid JSON %q", line)
	}
	return m
}

func (h *fakeHost) expect(typ string) map[string]any {
	h.t.Helper()
	m := h.read()
	if m["type"] != typ {
		h.t.Fatalf("agent sent %v, want type %s", m, typ)
	}
	return m["body"].(map[string]any)
}

func (h *fakeHost) challenge(seq int) map[string]any {
	h.t.Helper()
	nonce := strings.Repeat("0", 30) + string(rune('a'+seq%6)) + "1"
	h.send(`{"v":1,"group":"heartbeat","type":"challenge","body":{"seq":` + itoa(seq) + `,"nonce":"` + nonce + `"}}`)
	body := h.expect("response")
	if body["nonce"] != nonce || body["seq"] != float64(seq) {
		h.t.Fatalf("response %v does not echo seq %d / nonce %s", body, seq, nonce)
	}
	return body
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

type app struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialApp(t *testing.T, path string) *app {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &app{t: t, conn: c, r: bufio.NewReader(c)}
}

func (a *app) call(req string) map[string]any {
	a.t.Helper()
	if _, err := a.conn.Write([]byte(req + "\n")); err != nil {
		a.t.Fatal(err)
	}
	return a.next()
}

func (a *app) next() map[string]any {
	a.t.Helper()
	_ = a.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := a.r.ReadString('\n')
	if err != nil {
		a.t.Fatalf("app read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		a.t.Fatalf("invalid JSON %q", line)
	}
	return m
}

type rig struct {
	host   *fakeHost
	ln     net.Listener
	socket string
	cancel context.CancelFunc
	done   chan struct{}
}

func start(t *testing.T, checks []Check) *rig {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "port.sock"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Port, cfg.Socket, cfg.ReconnectMs, cfg.Checks = filepath.Join(dir, "port.sock"), filepath.Join(dir, "guest.sock"), 50, checks
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{ln: ln, socket: cfg.Socket, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); _ = New(cfg, nil).Run(ctx) }()
	t.Cleanup(func() { cancel(); <-r.done; _ = ln.Close() })
	r.accept(t)
	return r
}

func (r *rig) accept(t *testing.T) {
	t.Helper()
	conn, err := r.ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	r.host = &fakeHost{t: t, conn: conn, r: bufio.NewReader(conn)}
	init := r.host.expect("init")
	if !strings.HasPrefix(init["agent"].(string), "vmkeeper-guest/") || len(init["bootId"].(string)) != 32 {
		t.Fatalf("init %v", init)
	}
	r.host.send(`{"v":1,"group":"heartbeat","type":"init-ack","body":{"intervalMs":1000,"threshold":3,"groups":["heartbeat"]}}`)
}

func TestAgentAnswersChallengesWithAppHealthAndRelaysVotes(t *testing.T) {
	r := start(t, nil)
	if b := r.host.challenge(1); b["health"] != "healthy" {
		t.Fatalf("response %v", b)
	}
	db := dialApp(t, r.socket)
	if m := db.call(`{"op":"health","health":"unhealthy","reason":"x"}`); m["ok"] != false || m["error"] != "register first" {
		t.Fatalf("unregistered health: %v", m)
	}
	if m := db.call(`{"op":"register","app":"db","critical":true}`); m["ok"] != true {
		t.Fatalf("register: %v", m)
	}
	if m := dialApp(t, r.socket).call(`{"op":"register","app":"db"}`); m["ok"] != false {
		t.Fatalf("a second connection took the name: %v", m)
	}
	db.call(`{"op":"health","health":"unhealthy","reason":"replication lag"}`)
	if b := r.host.challenge(2); b["health"] != "unhealthy" || b["reason"] != "app db: replication lag" {
		t.Fatalf("response %v", b)
	}
	r.host.send(`{"v":1,"group":"heartbeat","type":"action-notify","body":{"actionId":"a1","action":"reboot","revocable":true,"deadlineMs":30000,"reason":"unhealthy"}}`)
	if ev := db.next(); ev["event"] != "vote-request" || ev["actionId"] != "a1" || ev["deadlineMs"] != float64(28000) {
		t.Fatalf("vote request %v", ev)
	}
	db.call(`{"op":"vote","actionId":"a1","vote":"refuse","reason":"primary"}`)
	if v := r.host.expect("vote"); v["vote"] != "refuse" || v["reason"] != "app db: primary" {
		t.Fatalf("vote %v", v)
	}
	if m := db.call(`{"op":"vote","actionId":"a1","vote":"accept"}`); m["ok"] != false {
		t.Fatalf("a second vote was accepted: %v", m)
	}
	_ = db.conn.Close() // a critical app that goes away leaves the guest unhealthy
	time.Sleep(100 * time.Millisecond)
	if b := r.host.challenge(3); b["reason"] != "app db: disconnected" {
		t.Fatalf("response %v", b)
	}
}

func TestAgentDropsAndCountsMalformedInputOnBothSides(t *testing.T) {
	r := start(t, nil)
	r.host.send("garbage")
	r.host.send(strings.Repeat("z", 10000))
	r.host.send(`{"v":1,"group":"sgm","type":"broadcast","body":{}}`)
	r.host.send(`{"v":4,"group":"heartbeat","type":"challenge","body":{}}`)
	if e := r.host.expect("error"); e["code"] != "unknown_version" {
		t.Fatalf("error %v", e)
	}
	r.host.challenge(1) // still answering
	a := dialApp(t, r.socket)
	a.call("{not json")
	a.call(`{"op":"dance"}`)
	if m := a.call(strings.Repeat("q", 5000)); m["ok"] != false {
		t.Fatalf("oversize local line: %v", m)
	}
	st := a.call(`{"op":"status"}`)["status"].(map[string]any)
	counters := st["counters"].(map[string]any)
	want := map[string]float64{"malformed": 1, "oversize": 1, "unhandledGroup": 1, "unknownVersion": 1, "challengesAnswered": 1, "localMalformed": 2, "localOversize": 1}
	for k, v := range want {
		if counters[k] != v {
			t.Errorf("counter %s = %v, want %v", k, counters[k], v)
		}
	}
	if st["state"] != "Active" || st["intervalMs"] != float64(1000) {
		t.Errorf("status %v", st)
	}
}

func TestAgentRunsHealthChecksWithTimeouts(t *testing.T) {
	r := start(t, []Check{
		{Name: "slow", Command: []string{"sleep", "10"}, IntervalMs: 100, TimeoutMs: 100},
		{Name: "false", Command: []string{"sh", "-c", "echo disk full >&2; exit 3"}, IntervalMs: 100, FailuresBeforeUnhealthy: 2},
		{Name: "true", Command: []string{"true"}, IntervalMs: 100},
	})
	deadline := time.Now().Add(5 * time.Second)
	seq := 1
	for {
		b := r.host.challenge(seq)
		seq++
		if b["reason"] == "check false: exit status 3: disk full; check slow: timed out after 100ms" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("last response %v", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAgentReconnectsAndSendsExitOnShutdown(t *testing.T) {
	r := start(t, nil)
	r.host.challenge(1)
	_ = r.host.conn.Close() // the host side goes away: the agent dials again and re-inits
	r.accept(t)
	r.host.challenge(2)
	r.cancel()
	if b := r.host.expect("exit"); b["reason"] != "shutdown" {
		t.Fatalf("exit %v", b)
	}
	<-r.done
}

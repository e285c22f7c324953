package core

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"vmkeeper.dev/guest/internal/wire"
)

// The conformance transcripts are shared with the TypeScript host side; this runner plays
// the guest role against the real Core. See test/conformance/guest-heartbeat/README.md.
const transcriptDir = "../../../test/conformance/guest-heartbeat"

type transcript struct {
	Name  string `json:"name"`
	Roles []string
	Guest struct {
		Agent      string `json:"agent"`
		BootID     string `json:"bootId"`
		IntervalMs int    `json:"intervalMs"`
		Threshold  int    `json:"threshold"`
	} `json:"guest"`
	Steps []map[string]json.RawMessage `json:"steps"`
}

type lineSpec struct {
	Base64 string `json:"base64"`
	Prefix string `json:"prefix"`
	Repeat string `json:"repeat"`
	Times  int    `json:"times"`
	Suffix string `json:"suffix"`
}

func expandLine(t *testing.T, raw json.RawMessage) []byte {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []byte(s)
	}
	var spec lineSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("bad line spec %s", raw)
	}
	if spec.Base64 != "" {
		b, err := base64.StdEncoding.DecodeString(spec.Base64)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return []byte(spec.Prefix + strings.Repeat(spec.Repeat, spec.Times) + spec.Suffix)
}

type guestRun struct {
	t       *testing.T
	core    *Core
	framer  *wire.Framer
	now     int64
	emitted [][]byte
	apps    []AppMessage
}

func (r *guestRun) take(out Output) {
	r.emitted = append(r.emitted, out.Wire...)
	r.apps = append(r.apps, out.Apps...)
}

func (r *guestRun) advance(ms int64) {
	target := r.now + ms
	for {
		d, ok := r.core.NextDeadline()
		if !ok || d > target {
			break
		}
		if d > r.now {
			r.now = d
		}
		r.take(r.core.Tick(r.now))
	}
	r.now = target
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func (r *guestRun) step(i int, step map[string]json.RawMessage) {
	t := r.t
	for key, raw := range step {
		switch key {
		case "h2g":
			for _, f := range r.framer.Push(append(expandLine(t, raw), '\n')) {
				if f.Oversize {
					r.core.Oversize()
				} else {
					r.take(r.core.Receive(f.Line, r.now))
				}
			}
		case "g2h":
			want := expandLine(t, raw)
			if len(r.emitted) == 0 {
				t.Fatalf("step %d: expected the guest to send %s, it sent nothing", i, want)
			}
			got := r.emitted[0]
			r.emitted = r.emitted[1:]
			if !jsonEqual(bytes.TrimSuffix(got, []byte("\n")), want) {
				t.Fatalf("step %d: guest sent\n  %s\nwant\n  %s", i, got, want)
			}
		case "advance":
			r.requireQuiet(i)
			var ms int64
			_ = json.Unmarshal(raw, &ms)
			r.advance(ms)
		case "guestDo":
			r.do(i, raw)
		case "guestCounters":
			var want map[string]int64
			_ = json.Unmarshal(raw, &want)
			got := r.core.Status().Counters
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("step %d: counter %s = %d, want %d (all: %v)", i, k, got[k], v, got)
				}
			}
		case "guestState":
			var want State
			_ = json.Unmarshal(raw, &want)
			if r.core.State() != want {
				t.Fatalf("step %d: state %s, want %s", i, r.core.State(), want)
			}
		case "guestApps":
			r.checkApps(i, raw)
		case "hostDo", "hostEvents", "hostCounters", "hostState", "note":
		default:
			t.Fatalf("step %d: unknown step %q", i, key)
		}
	}
}

func (r *guestRun) requireQuiet(i int) {
	if len(r.emitted) > 0 {
		r.t.Fatalf("step %d: the guest sent lines the transcript does not expect: %s", i, bytes.Join(r.emitted, nil))
	}
}

func (r *guestRun) checkApps(i int, raw json.RawMessage) {
	var want []map[string]any
	_ = json.Unmarshal(raw, &want)
	var got []map[string]any
	for _, m := range r.apps {
		b, _ := json.Marshal(m.Msg)
		var msg any
		_ = json.Unmarshal(b, &msg)
		got = append(got, map[string]any{"app": m.App, "msg": msg})
	}
	r.apps = nil
	if len(want) != len(got) || (len(want) > 0 && !reflect.DeepEqual(want, got)) {
		r.t.Fatalf("step %d: app messages %v, want %v", i, got, want)
	}
}

type guestOp struct {
	Op       string `json:"op"`
	App      string `json:"app"`
	Critical bool   `json:"critical"`
	Health   string `json:"health"`
	Reason   string `json:"reason"`
	ActionID string `json:"actionId"`
	Vote     string `json:"vote"`
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
}

func (r *guestRun) do(i int, raw json.RawMessage) {
	var op guestOp
	_ = json.Unmarshal(raw, &op)
	var err error
	switch op.Op {
	case "register":
		err = r.core.Register(op.App, op.Critical)
	case "health":
		err = r.core.AppHealth(op.App, op.Health == wire.Healthy, false, op.Reason)
	case "fail":
		err = r.core.AppHealth(op.App, false, true, op.Reason)
	case "vote":
		var out Output
		out, err = r.core.AppVote(op.App, op.ActionID, op.Vote == wire.Accept, op.Reason)
		r.take(out)
	case "disconnect", "unregister":
		r.take(r.core.Disconnect(op.App, op.Op == "unregister", r.now))
	case "check":
		r.core.SetCheck(op.Name, op.OK, op.Reason)
	case "shutdown":
		r.take(r.core.Shutdown(op.Reason))
	default:
		r.t.Fatalf("step %d: unknown guest op %q", i, op.Op)
	}
	if err != nil {
		r.t.Fatalf("step %d: %s: %v", i, op.Op, err)
	}
}

func TestConformanceTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(transcriptDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in %s (%v)", transcriptDir, err)
	}
	ran := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var tr transcript
		if err := json.Unmarshal(data, &tr); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !slices.Contains(tr.Roles, "guest") {
			continue
		}
		ran++
		t.Run(tr.Name, func(t *testing.T) {
			c := New(Config{Agent: tr.Guest.Agent, BootID: tr.Guest.BootID, IntervalMs: tr.Guest.IntervalMs, Threshold: tr.Guest.Threshold})
			r := &guestRun{t: t, core: c, framer: wire.NewFramer(wire.MaxLineBytes)}
			r.take(c.Start(0))
			for i, step := range tr.Steps {
				r.step(i, step)
			}
			r.requireQuiet(len(tr.Steps))
		})
	}
	if ran < 8 {
		t.Fatalf("only %d transcripts for the guest role", ran)
	}
}

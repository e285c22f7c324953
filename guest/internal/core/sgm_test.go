package core

import (
	"encoding/json"
	"strings"
	"testing"

	"vmkeeper.dev/guest/internal/wire"
)

func activeSGM(t *testing.T, hostGroups string) *Core {
	t.Helper()
	c := New(Config{Agent: "vmkeeper-guest/test", BootID: strings.Repeat("ab", 16), SGM: true})
	out := c.Start(0)
	if len(out.Wire) != 1 || !strings.Contains(string(out.Wire[0]), `"groups":["heartbeat","sgm"]`) {
		t.Fatalf("init %s", out.Wire)
	}
	c.Receive([]byte(`{"v":1,"group":"heartbeat","type":"init-ack","body":{"intervalMs":1000,"threshold":3,"groups":`+hostGroups+`}}`), 1)
	if err := c.Register("app", false); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSGMOffWhenTheHostDoesNotNegotiateIt(t *testing.T) {
	c := activeSGM(t, `["heartbeat"]`)
	if _, err := c.Broadcast("app", "", "x"); err != ErrSGMOff {
		t.Fatalf("broadcast without sgm: %v", err)
	}
	c.Receive([]byte(`{"v":1,"group":"sgm","type":"deliver","body":{"id":"x","payload":"p"}}`), 2)
	if c.counters[wire.ErrUnhandledGroup] != 1 {
		t.Fatalf("counters %v", c.counters)
	}
}

func TestSGMBroadcastDeliveryStatusAndErrors(t *testing.T) {
	c := activeSGM(t, `["heartbeat","sgm"]`)
	if err := c.Subscribe("app", true); err != nil {
		t.Fatal(err)
	}
	out, err := c.Broadcast("app", "mine", "hello <&>")
	if err != nil || len(out.Wire) != 1 || !strings.Contains(string(out.Wire[0]), `"payload":"hello <&>"`) {
		t.Fatalf("broadcast %s %v", out.Wire, err)
	}
	var sent struct{ Body map[string]string }
	_ = json.Unmarshal(out.Wire[0], &sent)
	// An error for that broadcast goes back to the app with its own ref.
	o := c.Receive([]byte(`{"v":1,"group":"sgm","type":"error","body":{"ref":"`+sent.Body["ref"]+`","code":"rate_limited","detail":"slow down"}}`), 3)
	if len(o.Apps) != 1 || o.Apps[0].Msg["event"] != "sgm-error" || o.Apps[0].Msg["ref"] != "mine" || o.Apps[0].Msg["code"] != "rate_limited" {
		t.Fatalf("error push %v", o.Apps)
	}
	o = c.Receive([]byte(`{"v":1,"group":"sgm","type":"deliver","body":{"id":"d1","from":{"instanceId":"i","name":"n"},"payload":"p","sentAt":"t"}}`), 4)
	if len(o.Apps) != 1 || o.Apps[0].Msg["event"] != "sgm-broadcast" {
		t.Fatalf("deliver push %v", o.Apps)
	}
	q, err := c.QueryStatus("app", "q1", 5)
	if err != nil {
		t.Fatal(err)
	}
	var query struct{ Body map[string]string }
	_ = json.Unmarshal(q.Wire[0], &query)
	ref := query.Body["ref"]
	part := func(n int) []byte {
		return []byte(`{"v":1,"group":"sgm","type":"status","body":{"ref":"` + ref + `","part":` + string(rune('0'+n)) + `,"parts":2,"self":"a","group":{"id":"g","name":"g","policy":"anti-affinity"},"members":[{"instanceId":"m` + string(rune('0'+n)) + `","name":"x","state":"Active","agentConnected":true}]}}`)
	}
	if o = c.Receive(part(2), 6); len(o.Apps) != 0 {
		t.Fatalf("answered before every part: %v", o.Apps)
	}
	o = c.Receive(part(1), 7)
	if len(o.Apps) != 1 || o.Apps[0].Msg["ok"] != true || o.Apps[0].Msg["ref"] != "q1" {
		t.Fatalf("status reply %v", o.Apps)
	}
	members := o.Apps[0].Msg["status"].(map[string]any)["members"].([]wire.SGMMember)
	if len(members) != 2 || members[0].InstanceID != "m1" {
		t.Fatalf("members %v", members)
	}
	// Garbage in the group is counted, never pushed.
	for _, l := range []string{`{"v":1,"group":"sgm","type":"status","body":{"part":0}}`, `{"v":1,"group":"sgm","type":"broadcast","body":{}}`, `{"v":1,"group":"sgm","type":"zzz","body":{}}`, `{"v":1,"group":"sgm","type":"deliver","body":{}}`} {
		if o = c.Receive([]byte(l), 20); len(o.Apps) != 0 || len(o.Wire) != 0 {
			t.Fatalf("%s -> %v", l, o)
		}
	}
	if c.counters[wire.ErrInvalidBody] != 2 || c.counters[wire.ErrUnexpected] != 1 || c.counters[wire.ErrUnknownType] != 1 {
		t.Fatalf("counters %v", c.counters)
	}
	// A query nobody answers times out.
	if _, err := c.QueryStatus("app", "q2", 10-1000); err != nil {
		t.Fatal(err)
	}
	if o = c.Tick(10 + StatusQueryTimeoutMs - 1000); len(o.Apps) != 1 || o.Apps[0].Msg["code"] != "timeout" {
		t.Fatalf("timeout %v", o.Apps)
	}
}

func TestPayloadWireBytesCountsLikeJSONStringify(t *testing.T) {
	for s, n := range map[string]int{"abc": 3, `a"b`: 4, "\n": 2, "\x01": 6, "é": 2, "<&>": 3} {
		if got := wire.PayloadWireBytes(s); got != n {
			t.Errorf("%q: %d, want %d", s, got, n)
		}
	}
}

package wire

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
)

func TestFramerSplitsLinesAcrossChunks(t *testing.T) {
	f := NewFramer(16)
	var got []string
	for _, chunk := range []string{"ab", "c\nde", "f\r\n\n  \nghi", "\n"} {
		for _, fr := range f.Push([]byte(chunk)) {
			if fr.Oversize {
				t.Fatal("unexpected oversize")
			}
			got = append(got, string(fr.Line))
		}
	}
	if strings.Join(got, "|") != "abc|def|ghi" {
		t.Fatalf("got %q", got)
	}
}

func TestFramerDiscardsOverLongLinesOnce(t *testing.T) {
	f := NewFramer(8)
	frames := f.Push([]byte("12345678\n123456789"))
	frames = append(frames, f.Push([]byte(strings.Repeat("x", 100)))...)
	frames = append(frames, f.Push([]byte("tail\nok\n"))...)
	if len(frames) != 3 || string(frames[0].Line) != "12345678" || !frames[1].Oversize || string(frames[2].Line) != "ok" {
		t.Fatalf("frames %+v", frames)
	}
}

func TestDecodeAcceptsEveryPDUInItsDirection(t *testing.T) {
	nonce := strings.Repeat("ab", 16)
	cases := []struct {
		role Role
		line []byte
	}{
		{AsHost, Encode(GroupHeartbeat, TypeInit, Init{Agent: "a/1", BootID: nonce, IntervalMs: 500, Threshold: 2, Groups: []string{"heartbeat", "sgm"}})},
		{AsGuest, Encode(GroupHeartbeat, TypeInitAck, InitAck{IntervalMs: 1000, Threshold: 3, Groups: []string{"heartbeat"}})},
		{AsGuest, Encode(GroupHeartbeat, TypeChallenge, Challenge{Seq: MaxSeq, Nonce: nonce})},
		{AsHost, Encode(GroupHeartbeat, TypeResponse, Response{Seq: 1, Nonce: nonce, Health: Unhealthy, Reason: "x"})},
		{AsHost, Encode(GroupHeartbeat, TypeExit, Exit{Reason: "shutdown"})},
		{AsGuest, Encode(GroupHeartbeat, TypeExit, Exit{Reason: "stop"})},
		{AsGuest, Encode(GroupHeartbeat, TypeActionNotify, ActionNotify{ActionID: "a:1", Action: "reboot", Revocable: true, DeadlineMs: 100})},
		{AsHost, Encode(GroupHeartbeat, TypeVote, Vote{ActionID: "a:1", Vote: Refuse, Reason: "busy"})},
		{AsHost, UnknownVersionError(2)},
	}
	for _, c := range cases {
		if _, err := Decode(bytes.TrimSuffix(c.line, []byte("\n")), c.role); err != nil {
			t.Errorf("%s: %v", c.line, err)
		}
		if _, err := Decode(bytes.TrimSuffix(c.line, []byte("\n")), 1-c.role); err != nil && err.Counter != ErrUnexpected {
			t.Errorf("%s in the other direction: %v", c.line, err)
		}
	}
}

func TestDecodeRefusesBadBodies(t *testing.T) {
	n := strings.Repeat("0", 32)
	cases := map[string]string{
		`{"v":1,"group":"heartbeat","type":"challenge","body":{"seq":0,"nonce":"` + n + `"}}`:                                            ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"challenge","body":{"seq":1.5,"nonce":"` + n + `"}}`:                                          ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"challenge","body":{"seq":"1","nonce":"` + n + `"}}`:                                          ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"challenge","body":{"seq":1,"nonce":"` + "ABCDEF" + n[6:] + `"}}`:                             ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"challenge","body":{"seq":9007199254740992,"nonce":"` + n + `"}}`:                             ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"init-ack","body":{"intervalMs":399,"threshold":3,"groups":[]}}`:                              ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"init-ack","body":{"intervalMs":400,"threshold":21,"groups":[]}}`:                             ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"action-notify","body":{"actionId":"a","action":"reboot","revocable":null,"deadlineMs":100}}`: ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"action-notify","body":{"actionId":"a","action":"Reboot","revocable":true,"deadlineMs":100}}`: ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"action-notify","body":{"actionId":"a","action":"reboot","revocable":true,"deadlineMs":99}}`:  ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"exit","body":{"reason":""}}`:                                                                 ErrInvalidBody,
		`{"v":1,"group":"heartbeat","type":"exit","body":{"reason":"` + strings.Repeat("r", 257) + `"}}`:                                 ErrInvalidBody,
		`{"v":1.0,"group":"heartbeat","type":"exit","body":{"reason":"` + strings.Repeat("r", 256) + `"}}`:                               "",
		`{"v":-1,"group":"heartbeat","type":"exit","body":{}}`:                                                                           ErrMalformed,
		`{"v":2}`:          ErrUnknownVersion,
		`{"v":1} trailing`: ErrMalformed,
		`{"v":1,"group":"heartbeat","type":"exit","body":[]}`: ErrMalformed,
	}
	for line, want := range cases {
		_, err := Decode([]byte(line), AsGuest)
		got := ""
		if err != nil {
			got = err.Counter
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", line, got, want)
		}
	}
}

// TestDecodeNeverPanicsOnMutations flips, drops and inserts bytes of valid lines at random.
func TestDecodeNeverPanicsOnMutations(t *testing.T) {
	seeds := [][]byte{
		Encode(GroupHeartbeat, TypeChallenge, Challenge{Seq: 7, Nonce: strings.Repeat("1", 32)}),
		Encode(GroupHeartbeat, TypeActionNotify, ActionNotify{ActionID: "x", Action: "stop", DeadlineMs: 1000, Reason: "é"}),
		UnknownVersionError(9),
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		b := append([]byte(nil), seeds[i%len(seeds)]...)
		for m := rng.Intn(4); m >= 0; m-- {
			pos := rng.Intn(len(b))
			switch rng.Intn(3) {
			case 0:
				b[pos] = byte(rng.Intn(256))
			case 1:
				b = append(b[:pos], b[pos+1:]...)
			default:
				b = append(b[:pos], append([]byte{"{}[]\":,0-e\\"[rng.Intn(11)]}, b[pos:]...)...)
			}
		}
		for _, role := range []Role{AsGuest, AsHost} {
			p, err := Decode(b, role)
			if (p == nil) == (err == nil) {
				t.Fatalf("%q: exactly one of pdu and error must be set", b)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"v":1,"group":"heartbeat","type":"challenge","body":{"seq":1,"nonce":"00000000000000000000000000000000"}}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, role := range []Role{AsGuest, AsHost} {
			if p, err := Decode(b, role); (p == nil) == (err == nil) {
				t.Fatal("exactly one of pdu and error must be set")
			}
		}
	})
}

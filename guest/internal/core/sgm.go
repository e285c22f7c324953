package core

import (
	"encoding/json"
	"errors"
	"strconv"

	"vmkeeper.dev/guest/internal/wire"
)

// Errors of the server-group messaging requests of local applications.
var (
	ErrSGMOff        = errors.New("server-group messaging is not active on this session (host without it, or no session)")
	ErrBadRef        = errors.New("ref must match [A-Za-z0-9._:-]{1,64}")
	ErrRefInUse      = errors.New("a status query with this ref is already pending")
	ErrPayloadNotStr = errors.New("payload must be a string")
)

// StatusQueryTimeoutMs is how long a status query waits for every part of the answer.
const StatusQueryTimeoutMs = 5000

type statusQuery struct {
	app      string
	appRef   string
	parts    map[int]*wire.SGMStatusPart
	deadline int64
}

// sgmState is the guest's server-group messaging state.
type sgmState struct {
	negotiated  bool
	subscribers map[string]bool
	queries     map[string]*statusQuery // by wire ref
	refOwner    map[string]string       // wire ref of a broadcast -> app (for its errors)
	seq         int64
}

func newSGMState() sgmState {
	return sgmState{subscribers: map[string]bool{}, queries: map[string]*statusQuery{}, refOwner: map[string]string{}}
}

// SGMActive reports whether the session negotiated the sgm group.
func (c *Core) SGMActive() bool { return c.state == Active && c.sgm.negotiated }

// Subscribe makes a registered application receive broadcasts and notifications.
func (c *Core) Subscribe(app string, on bool) error {
	if a, ok := c.apps[app]; !ok || !a.connected {
		return errors.New("register first")
	}
	if on {
		c.sgm.subscribers[app] = true
	} else {
		delete(c.sgm.subscribers, app)
	}
	return nil
}

func (c *Core) nextRef() string {
	c.sgm.seq++
	return "g" + strconv.FormatInt(c.sgm.seq, 36)
}

// Broadcast sends an application's payload to the host for every other member. The size
// and rate limits are the platform's: refusals come back as sgm-error pushes.
func (c *Core) Broadcast(app, appRef, payload string) (Output, error) {
	var out Output
	ref, err := c.beginRequest(appRef)
	if err != nil {
		return out, err
	}
	c.trackRef(ref, app, appRef)
	out.send(wire.Encode(wire.GroupSGM, wire.SGMBroadcast, map[string]string{"ref": ref, "payload": payload}))
	return out, nil
}

// beginRequest checks an application's request to the host (sgm negotiated, a valid ref of
// its own) and gives it the wire ref it goes out with.
func (c *Core) beginRequest(appRef string) (string, error) {
	if !c.SGMActive() {
		return "", ErrSGMOff
	}
	if appRef != "" && !wire.ValidRef(appRef) {
		return "", ErrBadRef
	}
	c.counters["sgmSent"]++
	return c.nextRef(), nil
}

// trackRef remembers which application a wire ref belongs to (the last 256).
func (c *Core) trackRef(ref, app, appRef string) {
	if len(c.sgm.refOwner) >= 256 {
		for k := range c.sgm.refOwner {
			delete(c.sgm.refOwner, k)
			break
		}
	}
	c.sgm.refOwner[ref] = app + "\x00" + appRef
}

// QueryStatus asks the host for the state of every member; the answer is pushed to the
// application as the reply to its request (matched by its ref).
func (c *Core) QueryStatus(app, appRef string, now int64) (Output, error) {
	var out Output
	ref, err := c.beginRequest(appRef)
	if err != nil {
		return out, err
	}
	c.sgm.queries[ref] = &statusQuery{app: app, appRef: appRef, parts: map[int]*wire.SGMStatusPart{}, deadline: now + StatusQueryTimeoutMs}
	out.send(wire.Encode(wire.GroupSGM, wire.SGMStatusQuery, map[string]string{"ref": ref}))
	return out, nil
}

func (c *Core) pushSubscribers(out *Output, msg map[string]any) {
	for _, name := range sortedKeys(c.sgm.subscribers) {
		if a, ok := c.apps[name]; ok && a.connected {
			out.Apps = append(out.Apps, AppMessage{App: name, Msg: msg})
		}
	}
}

func (c *Core) onSGM(out *Output, p *wire.PDU) {
	if !c.SGMActive() {
		c.counters[wire.ErrUnhandledGroup]++
		return
	}
	switch p.Type {
	case wire.SGMDeliver, wire.SGMNotification:
		event := "sgm-broadcast"
		if p.Type == wire.SGMNotification {
			event = "sgm-notification"
		}
		msg := map[string]any{}
		for k, v := range p.SGM {
			msg[k] = v
		}
		msg["event"] = event // set last: a body field cannot replace it
		if _, ok := p.SGM["id"]; !ok {
			c.counters[wire.ErrInvalidBody]++
			return
		}
		c.counters["sgmReceived"]++
		c.pushSubscribers(out, msg)
	case wire.SGMStatus:
		c.onStatusPart(out, p.SGM)
	case wire.SGMError:
		c.onSGMError(out, p.SGM)
	case wire.SGMBroadcast, wire.SGMStatusQuery:
		c.counters[wire.ErrUnexpected]++
	default:
		c.counters[wire.ErrUnknownType]++
	}
}

func (c *Core) onStatusPart(out *Output, b map[string]json.RawMessage) {
	part, ok := wire.DecodeSGMStatus(b)
	if !ok {
		c.counters[wire.ErrInvalidBody]++
		return
	}
	q := c.sgm.queries[part.Ref]
	if q == nil {
		c.counters[wire.ErrUnexpected]++
		return
	}
	q.parts[part.Part] = part
	if len(q.parts) < part.Parts {
		return
	}
	delete(c.sgm.queries, part.Ref)
	c.counters["sgmReceived"]++
	members := []wire.SGMMember{}
	for i := 1; i <= part.Parts; i++ {
		if p := q.parts[i]; p != nil {
			members = append(members, p.Members...)
		}
	}
	reply := map[string]any{"ok": true, "op": "sgm-status", "status": map[string]any{"self": part.Self, "group": part.Group, "members": members}}
	if q.appRef != "" {
		reply["ref"] = q.appRef
	}
	out.Apps = append(out.Apps, AppMessage{App: q.app, Msg: reply})
}

func (c *Core) onSGMError(out *Output, b map[string]json.RawMessage) {
	e, ok := wire.DecodeSGMError(b)
	if !ok {
		c.counters[wire.ErrInvalidBody]++
		return
	}
	c.counters["sgmErrors"]++
	if q := c.sgm.queries[e.Ref]; q != nil {
		delete(c.sgm.queries, e.Ref)
		reply := map[string]any{"ok": false, "op": "sgm-status", "code": e.Code, "error": e.Detail}
		if q.appRef != "" {
			reply["ref"] = q.appRef
		}
		out.Apps = append(out.Apps, AppMessage{App: q.app, Msg: reply})
		return
	}
	msg := map[string]any{"event": "sgm-error", "code": e.Code, "detail": e.Detail}
	if owner, ok := c.sgm.refOwner[e.Ref]; ok {
		app, appRef := splitOwner(owner)
		if appRef != "" {
			msg["ref"] = appRef
		}
		if a, ok := c.apps[app]; ok && a.connected {
			out.Apps = append(out.Apps, AppMessage{App: app, Msg: msg})
		}
		return
	}
	c.pushSubscribers(out, msg)
}

func splitOwner(s string) (string, string) {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// expireQueries answers status queries whose parts did not all arrive in time.
func (c *Core) expireQueries(out *Output, now int64) {
	for _, ref := range sortedKeys(c.sgm.queries) {
		q := c.sgm.queries[ref]
		if now < q.deadline {
			continue
		}
		delete(c.sgm.queries, ref)
		reply := map[string]any{"ok": false, "op": "sgm-status", "code": "timeout", "error": "no complete answer from the host within 5 s"}
		if q.appRef != "" {
			reply["ref"] = q.appRef
		}
		out.Apps = append(out.Apps, AppMessage{App: q.app, Msg: reply})
	}
}

// endSGM fails pending queries when the session ends.
func (c *Core) endSGM(out *Output) {
	for _, ref := range sortedKeys(c.sgm.queries) {
		q := c.sgm.queries[ref]
		reply := map[string]any{"ok": false, "op": "sgm-status", "code": "no_session", "error": "the session with the host ended"}
		if q.appRef != "" {
			reply["ref"] = q.appRef
		}
		if out != nil {
			out.Apps = append(out.Apps, AppMessage{App: q.app, Msg: reply})
		}
	}
	c.sgm.queries = map[string]*statusQuery{}
	c.sgm.negotiated = false
}

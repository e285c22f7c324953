package core

import (
	"errors"
	"regexp"

	"vmkeeper.dev/guest/internal/wire"
)

// Errors returned to local applications.
var (
	ErrBadName    = errors.New("app must match [A-Za-z0-9._-]{1,64}")
	ErrNameInUse  = errors.New("app name is registered by another connection")
	ErrNotPending = errors.New("no vote is pending for this action")
	ErrBadReason  = errors.New("reason must be 1..256 bytes")
)

var reApp = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Register adds (or reconnects) an application. A critical application that disconnects
// without unregistering keeps the guest unhealthy until it registers again.
func (c *Core) Register(name string, critical bool) error {
	if !reApp.MatchString(name) {
		return ErrBadName
	}
	if a, ok := c.apps[name]; ok && a.connected {
		return ErrNameInUse
	}
	c.apps[name] = &app{critical: critical, connected: true, healthy: true}
	return nil
}

// Disconnect is called when an application's connection closes. If unregister is true
// (an explicit request) or the app is not critical, it is forgotten.
func (c *Core) Disconnect(name string, unregister bool, now int64) Output {
	var out Output
	a, ok := c.apps[name]
	if !ok {
		return out
	}
	delete(c.sgm.subscribers, name)
	if unregister || !a.critical {
		delete(c.apps, name)
	} else {
		a.connected = false
	}
	for _, id := range c.pendingIDs() {
		p := c.pending[id]
		delete(p.awaiting, name)
		if len(p.awaiting) == 0 {
			c.sendVote(&out, id, wire.Accept, "")
		}
	}
	return out
}

// AppHealth records an application's own report; fail marks a declared failure.
func (c *Core) AppHealth(name string, healthy, fail bool, reason string) error {
	a, ok := c.apps[name]
	if !ok || !a.connected {
		return errors.New("register first")
	}
	if !healthy && (reason == "" || len(reason) > wire.MaxReasonBytes) {
		return ErrBadReason
	}
	a.healthy, a.failed, a.reason = healthy, fail, reason
	if healthy {
		a.reason = ""
	}
	return nil
}

// AppVote records an application's answer to a vote request. A refusal is sent to the host
// at once; acceptance is sent when every application asked has accepted.
func (c *Core) AppVote(name, actionID string, accept bool, reason string) (Output, error) {
	var out Output
	p, ok := c.pending[actionID]
	if !ok || !p.awaiting[name] {
		return out, ErrNotPending
	}
	if !accept {
		if reason == "" || len(reason) > wire.MaxReasonBytes {
			return out, ErrBadReason
		}
		c.sendVote(&out, actionID, wire.Refuse, truncate("app "+name+": "+reason, wire.MaxReasonBytes))
		return out, nil
	}
	delete(p.awaiting, name)
	if len(p.awaiting) == 0 {
		c.sendVote(&out, actionID, wire.Accept, "")
	}
	return out, nil
}

func (c *Core) onActionNotify(out *Output, n *wire.ActionNotify, now int64) {
	c.counters["actionsReceived"]++
	if c.state != Active {
		c.counters[wire.ErrUnexpected]++
		return
	}
	if _, dup := c.pending[n.ActionID]; dup {
		c.counters[wire.ErrUnexpected]++
		return
	}
	event := "vote-request"
	if !n.Revocable {
		event = "action-notice"
	}
	awaiting := map[string]bool{}
	for _, name := range sortedKeys(c.apps) {
		if !c.apps[name].connected {
			continue
		}
		awaiting[name] = true
		out.Apps = append(out.Apps, AppMessage{App: name, Msg: map[string]any{
			"event": event, "actionId": n.ActionID, "action": n.Action, "reason": n.Reason,
			"revocable": n.Revocable, "deadlineMs": voteWindow(n.DeadlineMs),
		}})
	}
	if !n.Revocable || len(awaiting) == 0 {
		c.pending[n.ActionID] = &pending{notify: *n}
		c.sendVote(out, n.ActionID, wire.Accept, "")
		return
	}
	c.pending[n.ActionID] = &pending{notify: *n, awaiting: awaiting, voteAt: now + int64(voteWindow(n.DeadlineMs))}
}

// voteWindow is the part of the host's deadline given to applications: the guest answers
// (accept, "no objection") before the host's deadline, keeping a guard of up to 2 s.
func voteWindow(deadlineMs int) int {
	guard := deadlineMs / 4
	if guard > 2000 {
		guard = 2000
	}
	return deadlineMs - guard
}

func (c *Core) sendVote(out *Output, actionID, vote, reason string) {
	delete(c.pending, actionID)
	c.counters["votesSent"]++
	out.send(wire.Encode(wire.GroupHeartbeat, wire.TypeVote, wire.Vote{ActionID: actionID, Vote: vote, Reason: reason}))
}

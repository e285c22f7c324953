package wire

import (
	"encoding/json"
	"regexp"
)

// Server-group messaging (group sgm) message types.
const (
	// Guest to host.
	SGMBroadcast   = "broadcast"
	SGMStatusQuery = "status-query"
	// Host to guest.
	SGMDeliver      = "deliver"
	SGMNotification = "notification"
	SGMStatus       = "status"
	SGMError        = "error"
)

// MaxPayloadBytes is the largest broadcast payload, counted as the bytes of the payload
// inside its JSON string with JSON.stringify's escaping (PayloadWireBytes).
const MaxPayloadBytes = 3050

var reRef = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// ValidRef reports whether s may be used as a message reference.
func ValidRef(s string) bool { return reRef.MatchString(s) }

// SGMMember is one member in a status answer.
type SGMMember struct {
	InstanceID     string `json:"instanceId"`
	Name           string `json:"name"`
	State          string `json:"state"`
	AgentConnected bool   `json:"agentConnected"`
}

// SGMStatusPart is one line of a status answer (a large group takes several).
type SGMStatusPart struct {
	Ref     string            `json:"ref,omitempty"`
	Part    int               `json:"part"`
	Parts   int               `json:"parts"`
	Self    string            `json:"self"`
	Group   map[string]string `json:"group"`
	Members []SGMMember       `json:"members"`
}

// SGMErrorBody is the host's refusal of a guest message.
type SGMErrorBody struct {
	Ref    string `json:"ref,omitempty"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// DecodeSGMStatus validates a status part.
func DecodeSGMStatus(b map[string]json.RawMessage) (*SGMStatusPart, bool) {
	var p SGMStatusPart
	raw, err := json.Marshal(b)
	if err != nil || json.Unmarshal(raw, &p) != nil {
		return nil, false
	}
	if p.Part < 1 || p.Parts < 1 || p.Part > p.Parts || p.Parts > 64 || p.Members == nil || (p.Ref != "" && !ValidRef(p.Ref)) {
		return nil, false
	}
	return &p, true
}

// DecodeSGMError validates an sgm error.
func DecodeSGMError(b map[string]json.RawMessage) (*SGMErrorBody, bool) {
	var e SGMErrorBody
	if !matchField(&e.Code, b, "code", reCode, true) {
		return nil, false
	}
	if detail := reasonField(&e.Detail, b, "detail", false); detail != "" {
		return nil, false
	}
	if raw, ok := b["ref"]; ok {
		s, ok := stringOf(raw)
		if !ok || !ValidRef(s) {
			return nil, false
		}
		e.Ref = s
	}
	return &e, true
}

// PayloadWireBytes counts a payload as the host does: the bytes inside its JSON string when
// only '"', '\' and control characters are escaped (\b \f \n \r \t as two bytes, the others
// as \u00XX).
func PayloadWireBytes(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
			n += 2
		case c < 0x20:
			n += 6
		default:
			n++
		}
	}
	return n
}

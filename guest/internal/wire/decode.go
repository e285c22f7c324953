package wire

import (
	"encoding/json"
	"math"
	"regexp"
	"unicode/utf8"
)

// Role says which side is decoding; each side accepts only the types sent towards it.
type Role int

const (
	// AsGuest decodes what the host sends.
	AsGuest Role = iota
	// AsHost decodes what the guest sends.
	AsHost
)

// Counter names of decode failures (also the names in status counters).
const (
	ErrMalformed      = "malformed"
	ErrUnknownVersion = "unknownVersion"
	ErrUnknownGroup   = "unknownGroup"
	ErrUnhandledGroup = "unhandledGroup"
	ErrUnknownType    = "unknownType"
	ErrUnexpected     = "unexpected"
	ErrInvalidBody    = "invalidBody"
)

// DecodeError says why a line was dropped. Counter is one of the Err* names.
type DecodeError struct {
	Counter string
	Version int // set for ErrUnknownVersion
	// IsError is true when the dropped message was itself a base/error (never answered).
	IsError bool
	Detail  string
}

func (e *DecodeError) Error() string { return e.Counter + ": " + e.Detail }

var directions = map[string]map[string]Role{
	GroupBase:      {TypeError: -1},
	GroupHeartbeat: {TypeInit: AsHost, TypeInitAck: AsGuest, TypeChallenge: AsGuest, TypeResponse: AsHost, TypeExit: -1, TypeActionNotify: AsGuest, TypeVote: AsHost},
	GroupSGM:       {},
}

type fields map[string]json.RawMessage

// Decode validates one line (without newline) as seen by role. It never panics.
func Decode(line []byte, role Role) (*PDU, *DecodeError) {
	if !utf8.Valid(line) {
		return nil, &DecodeError{Counter: ErrMalformed, Detail: "invalid UTF-8"}
	}
	var env fields
	if err := json.Unmarshal(line, &env); err != nil || env == nil {
		return nil, &DecodeError{Counter: ErrMalformed, Detail: "not a JSON object"}
	}
	group, _ := stringOf(env["group"])
	typ, _ := stringOf(env["type"])
	isError := group == GroupBase && typ == TypeError
	v, ok := intOf(env["v"], 0, math.MaxInt32)
	if !ok {
		return nil, &DecodeError{Counter: ErrMalformed, Detail: "v must be a non-negative integer", IsError: isError}
	}
	if v != Version {
		return nil, &DecodeError{Counter: ErrUnknownVersion, Version: int(v), IsError: isError, Detail: "unsupported version"}
	}
	var body fields
	if _, hasG := stringOf(env["group"]); !hasG {
		return nil, &DecodeError{Counter: ErrMalformed, Detail: "group must be a string"}
	}
	if _, hasT := stringOf(env["type"]); !hasT {
		return nil, &DecodeError{Counter: ErrMalformed, Detail: "type must be a string"}
	}
	if raw, present := env["body"]; !present || json.Unmarshal(raw, &body) != nil || body == nil {
		return nil, &DecodeError{Counter: ErrMalformed, Detail: "body must be an object", IsError: isError}
	}
	types, known := directions[group]
	if !known {
		return nil, &DecodeError{Counter: ErrUnknownGroup, Detail: "group " + group}
	}
	if group == GroupSGM {
		return &PDU{Group: group, Type: typ, SGM: body}, nil
	}
	dir, known := types[typ]
	if !known {
		return nil, &DecodeError{Counter: ErrUnknownType, Detail: group + "/" + typ, IsError: isError}
	}
	if dir != -1 && dir != role {
		return nil, &DecodeError{Counter: ErrUnexpected, Detail: typ + " is not sent in this direction"}
	}
	p := &PDU{Group: group, Type: typ}
	if detail := decodeBody(p, body); detail != "" {
		return nil, &DecodeError{Counter: ErrInvalidBody, Detail: typ + ": " + detail, IsError: isError}
	}
	return p, nil
}

func decodeBody(p *PDU, b fields) string {
	switch p.Type {
	case TypeError:
		p.Error = &ErrorBody{}
		return decodeError(p.Error, b)
	case TypeInit:
		p.Init = &Init{}
		return decodeInit(p.Init, b)
	case TypeInitAck:
		p.InitAck = &InitAck{}
		return decodeInitAck(p.InitAck, b)
	case TypeChallenge:
		p.Challenge = &Challenge{}
		return decodeChallenge(p.Challenge, b)
	case TypeResponse:
		p.Response = &Response{}
		return decodeResponse(p.Response, b)
	case TypeExit:
		p.Exit = &Exit{}
		return reasonField(&p.Exit.Reason, b, "reason", true)
	case TypeActionNotify:
		p.ActionNotify = &ActionNotify{}
		return decodeActionNotify(p.ActionNotify, b)
	case TypeVote:
		p.Vote = &Vote{}
		return decodeVote(p.Vote, b)
	}
	return "unknown type"
}

var (
	reCode     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	reAgent    = regexp.MustCompile(`^[\x21-\x7e]{1,64}$`)
	reHex32    = regexp.MustCompile(`^[0-9a-f]{32}$`)
	reGroup    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	reActionID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
	reAction   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
)

func decodeError(e *ErrorBody, b fields) string {
	if !matchField(&e.Code, b, "code", reCode, true) {
		return "code"
	}
	if raw, ok := b["supported"]; ok {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil || list == nil || len(list) > 16 {
			return "supported"
		}
		for _, item := range list {
			n, ok := intOf(item, 1, 1000)
			if !ok {
				return "supported"
			}
			e.Supported = append(e.Supported, int(n))
		}
	}
	return reasonField(&e.Detail, b, "detail", false)
}

func decodeInit(m *Init, b fields) string {
	if !matchField(&m.Agent, b, "agent", reAgent, true) {
		return "agent"
	}
	if !matchField(&m.BootID, b, "bootId", reHex32, true) {
		return "bootId"
	}
	if !optInt(&m.IntervalMs, b, "intervalMs", MinIntervalMs, MaxIntervalMs) {
		return "intervalMs"
	}
	if !optInt(&m.Threshold, b, "threshold", MinThreshold, MaxThreshold) {
		return "threshold"
	}
	groups, ok := groupsOf(b["groups"])
	if !ok || !contains(groups, GroupHeartbeat) {
		return "groups"
	}
	m.Groups = groups
	return ""
}

func decodeInitAck(m *InitAck, b fields) string {
	iv, ok := intOf(b["intervalMs"], MinIntervalMs, MaxIntervalMs)
	if !ok {
		return "intervalMs"
	}
	th, ok := intOf(b["threshold"], MinThreshold, MaxThreshold)
	if !ok {
		return "threshold"
	}
	groups, ok := groupsOf(b["groups"])
	if !ok {
		return "groups"
	}
	m.IntervalMs, m.Threshold, m.Groups = int(iv), int(th), groups
	return ""
}

func decodeChallenge(m *Challenge, b fields) string {
	seq, ok := intOf(b["seq"], 1, MaxSeq)
	if !ok {
		return "seq"
	}
	m.Seq = seq
	if !matchField(&m.Nonce, b, "nonce", reHex32, true) {
		return "nonce"
	}
	return ""
}

func decodeResponse(m *Response, b fields) string {
	seq, ok := intOf(b["seq"], 1, MaxSeq)
	if !ok {
		return "seq"
	}
	m.Seq = seq
	if !matchField(&m.Nonce, b, "nonce", reHex32, true) {
		return "nonce"
	}
	h, ok := stringOf(b["health"])
	if !ok || (h != Healthy && h != Unhealthy) {
		return "health"
	}
	m.Health = h
	return reasonField(&m.Reason, b, "reason", h == Unhealthy)
}

func decodeActionNotify(m *ActionNotify, b fields) string {
	if !matchField(&m.ActionID, b, "actionId", reActionID, true) {
		return "actionId"
	}
	if !matchField(&m.Action, b, "action", reAction, true) {
		return "action"
	}
	if err := json.Unmarshal(b["revocable"], &m.Revocable); err != nil || string(b["revocable"]) == "null" {
		return "revocable"
	}
	d, ok := intOf(b["deadlineMs"], MinDeadlineMs, MaxDeadlineMs)
	if !ok {
		return "deadlineMs"
	}
	m.DeadlineMs = int(d)
	return reasonField(&m.Reason, b, "reason", false)
}

func decodeVote(m *Vote, b fields) string {
	if !matchField(&m.ActionID, b, "actionId", reActionID, true) {
		return "actionId"
	}
	v, ok := stringOf(b["vote"])
	if !ok || (v != Accept && v != Refuse) {
		return "vote"
	}
	m.Vote = v
	return reasonField(&m.Reason, b, "reason", v == Refuse)
}

// stringOf decodes a JSON string; null and other types are refused.
func stringOf(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// intOf decodes a JSON number that is an integer within [min, max].
func intOf(raw json.RawMessage, min, max int64) (int64, bool) {
	if len(raw) == 0 || !(raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		return 0, false
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || f != math.Trunc(f) || f < float64(min) || f > float64(max) {
		return 0, false
	}
	return int64(f), true
}

func optInt(dst *int, b fields, key string, min, max int64) bool {
	raw, present := b[key]
	if !present {
		return true
	}
	n, ok := intOf(raw, min, max)
	*dst = int(n)
	return ok
}

func matchField(dst *string, b fields, key string, re *regexp.Regexp, required bool) bool {
	raw, present := b[key]
	if !present {
		return !required
	}
	s, ok := stringOf(raw)
	if !ok || !re.MatchString(s) {
		return false
	}
	*dst = s
	return true
}

// reasonField reads a free-text field of at most MaxReasonBytes; required means non-empty.
func reasonField(dst *string, b fields, key string, required bool) string {
	raw, present := b[key]
	if !present {
		if required {
			return key + " is required"
		}
		return ""
	}
	s, ok := stringOf(raw)
	if !ok || len(s) > MaxReasonBytes || (required && s == "") {
		return key
	}
	*dst = s
	return ""
}

func groupsOf(raw json.RawMessage) ([]string, bool) {
	var list []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &list) != nil || len(list) > 8 {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		s, ok := stringOf(item)
		if !ok || !reGroup.MatchString(s) {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package wire

import (
	"bytes"
	"encoding/json"
)

// Version is the only protocol version this implementation speaks.
const Version = 1

// Groups of the base layer. GroupSGM is server-group messaging: the base layer only routes
// it (see sgm.go and docs/protocols/server-group-messaging.md); a session that did not
// negotiate it counts its lines as unhandledGroup.
const (
	GroupBase      = "base"
	GroupHeartbeat = "heartbeat"
	GroupSGM       = "sgm"
)

// Message types.
const (
	TypeError        = "error"
	TypeInit         = "init"
	TypeInitAck      = "init-ack"
	TypeChallenge    = "challenge"
	TypeResponse     = "response"
	TypeExit         = "exit"
	TypeActionNotify = "action-notify"
	TypeVote         = "vote"
)

// Error codes carried by base/error.
const (
	CodeUnknownVersion = "unknown_version"
	CodeNoSession      = "no_session"
)

// Limits shared by both sides (see the protocol document).
const (
	MinIntervalMs     = 400
	MaxIntervalMs     = 60000
	DefaultIntervalMs = 1000
	MinThreshold      = 1
	MaxThreshold      = 20
	DefaultThreshold  = 3
	MinDeadlineMs     = 100
	MaxDeadlineMs     = 600000
	MaxReasonBytes    = 256
	MaxSeq            = 1<<53 - 1
)

// Health values of a response.
const (
	Healthy   = "healthy"
	Unhealthy = "unhealthy"
)

// Vote values.
const (
	Accept = "accept"
	Refuse = "refuse"
)

// Init is sent by the guest to open a session.
type Init struct {
	Agent      string   `json:"agent"`
	BootID     string   `json:"bootId"`
	IntervalMs int      `json:"intervalMs,omitempty"`
	Threshold  int      `json:"threshold,omitempty"`
	Groups     []string `json:"groups"`
}

// InitAck is the host's answer to Init with the negotiated parameters.
type InitAck struct {
	IntervalMs int      `json:"intervalMs"`
	Threshold  int      `json:"threshold"`
	Groups     []string `json:"groups"`
}

// Challenge asks the guest to prove it is alive.
type Challenge struct {
	Seq   int64  `json:"seq"`
	Nonce string `json:"nonce"`
}

// Response echoes a challenge and carries the guest's aggregated health.
type Response struct {
	Seq    int64  `json:"seq"`
	Nonce  string `json:"nonce"`
	Health string `json:"health"`
	Reason string `json:"reason,omitempty"`
}

// Exit closes a session on purpose.
type Exit struct {
	Reason string `json:"reason"`
}

// ActionNotify tells the guest about a pending action it may vote on.
type ActionNotify struct {
	ActionID   string `json:"actionId"`
	Action     string `json:"action"`
	Revocable  bool   `json:"revocable"`
	DeadlineMs int    `json:"deadlineMs"`
	Reason     string `json:"reason,omitempty"`
}

// Vote is the guest's answer to ActionNotify.
type Vote struct {
	ActionID string `json:"actionId"`
	Vote     string `json:"vote"`
	Reason   string `json:"reason,omitempty"`
}

// ErrorBody is the body of base/error.
type ErrorBody struct {
	Code      string `json:"code"`
	Supported []int  `json:"supported,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// PDU is one decoded message; exactly one body pointer matching Group/Type is set.
type PDU struct {
	Group        string
	Type         string
	Init         *Init
	InitAck      *InitAck
	Challenge    *Challenge
	Response     *Response
	Exit         *Exit
	ActionNotify *ActionNotify
	Vote         *Vote
	Error        *ErrorBody
	// SGM is the raw body of an sgm-group message (validated by DecodeSGM).
	SGM map[string]json.RawMessage
}

type envelope struct {
	V     int    `json:"v"`
	Group string `json:"group"`
	Type  string `json:"type"`
	Body  any    `json:"body"`
}

// Encode renders one message as a line, newline included. '<', '>' and '&' are not
// escaped, so a payload's size on the wire is what PayloadWireBytes counts.
func Encode(group, typ string, body any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(envelope{V: Version, Group: group, Type: typ, Body: body}); err != nil {
		// Every body type above marshals; this is a programming error.
		panic(err)
	}
	return buf.Bytes() // Encoder.Encode ends the line with '\n'
}

// UnknownVersionError is the reply to a message of a version we do not speak.
func UnknownVersionError(got int) []byte {
	return Encode(GroupBase, TypeError, ErrorBody{Code: CodeUnknownVersion, Supported: []int{Version}, Detail: "version " + itoa(got) + " is not supported"})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

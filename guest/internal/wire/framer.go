// Package wire is the byte and JSON layer of the vmkeeper guest heartbeat protocol
// (docs/protocols/guest-heartbeat.md): newline framing with a size limit, the versioned
// envelope that multiplexes message groups, and the validated PDUs of the heartbeat group.
package wire

import "bytes"

// MaxLineBytes is the largest line either side accepts, not counting the newline.
const MaxLineBytes = 4096

// Frame is one unit produced by the Framer: a complete line, or the notice that an
// over-long line was discarded.
type Frame struct {
	Line     []byte // the line without its newline (and without a trailing '\r')
	Oversize bool   // the line exceeded MaxLineBytes and was discarded up to its newline
}

// Framer splits a byte stream into lines of at most max bytes. An over-long line is
// reported once, when it crosses the limit, and its bytes are discarded up to the next
// newline. Blank lines (ASCII white space only) are skipped. It never grows beyond max bytes of buffer.
type Framer struct {
	max        int
	buf        []byte
	discarding bool
}

// NewFramer returns a Framer with the given limit (MaxLineBytes when max <= 0).
func NewFramer(max int) *Framer {
	if max <= 0 {
		max = MaxLineBytes
	}
	return &Framer{max: max}
}

// Push consumes a chunk and returns the frames it completes, in order.
func (f *Framer) Push(chunk []byte) []Frame {
	var out []Frame
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		part := chunk
		if i >= 0 {
			part = chunk[:i]
			chunk = chunk[i+1:]
		} else {
			chunk = nil
		}
		if !f.discarding {
			if len(f.buf)+len(part) > f.max {
				out = append(out, Frame{Oversize: true})
				f.buf = f.buf[:0]
				f.discarding = true
			} else {
				f.buf = append(f.buf, part...)
			}
		}
		if i < 0 {
			break
		}
		if f.discarding {
			f.discarding = false
			continue
		}
		line := bytes.TrimSuffix(f.buf, []byte{'\r'})
		if len(bytes.Trim(line, " \t\r\v\f")) > 0 {
			out = append(out, Frame{Line: append([]byte(nil), line...)})
		}
		f.buf = f.buf[:0]
	}
	return out
}

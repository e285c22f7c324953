package agent

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"vmkeeper.dev/guest/internal/core"
)

// runCheck runs one health-check command every interval until ctx ends. A run fails on a
// non-zero exit, a start error or the timeout (the whole process group is killed); the
// check turns unhealthy after FailuresBeforeUnhealthy consecutive failures and healthy
// again after one success.
func (a *Agent) runCheck(ctx context.Context, ch Check) {
	failures := 0
	for {
		ok, reason := runOnce(ctx, ch)
		if ctx.Err() != nil {
			return
		}
		if ok {
			failures = 0
		} else {
			failures++
		}
		healthy := failures < ch.FailuresBeforeUnhealthy
		a.with(func(c *core.Core, _ int64) core.Output {
			c.SetCheck(ch.Name, healthy, reason)
			return core.Output{}
		})
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(ch.IntervalMs) * time.Millisecond):
		}
	}
}

func runOnce(ctx context.Context, ch Check) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(ch.TimeoutMs)*time.Millisecond)
	defer cancel()
	cmd := exec.CommandContext(ctx, ch.Command[0], ch.Command[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var output bytes.Buffer
	cmd.Stdout = &limitedWriter{buf: &output, max: 512}
	cmd.Stderr = cmd.Stdout
	err := cmd.Run()
	if err == nil {
		return true, ""
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return false, "timed out after " + (time.Duration(ch.TimeoutMs) * time.Millisecond).String()
	}
	reason := err.Error()
	if first := firstLine(output.String()); first != "" {
		reason += ": " + first
	}
	return false, reason
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160]
	}
	return strings.TrimSpace(s)
}

type limitedWriter struct {
	buf *bytes.Buffer
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		if len(p) > room {
			w.buf.Write(p[:room])
		} else {
			w.buf.Write(p)
		}
	}
	return len(p), nil
}

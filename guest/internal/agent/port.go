package agent

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"vmkeeper.dev/guest/internal/core"
	"vmkeeper.dev/guest/internal/wire"
)

// openPort opens the channel to the host: a unix socket (tests, or a host-side relay) if
// the path is one, otherwise the virtio-serial character device.
func openPort(path string) (io.ReadWriteCloser, error) {
	return openPortIn(path, "/dev/virtio-ports", "/sys/class/virtio-ports", "/dev")
}

func openPortIn(path, linkDir, sysDir, devDir string) (io.ReadWriteCloser, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		return net.Dial("unix", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return f, err
	}
	// /dev/virtio-ports/<name> links are made by udev. Without udev, or before udev has seen a
	// port the host plugged in while the guest runs (the node agent attaches the channel to a
	// running domain), find the port by its name in sysfs.
	if filepath.Dir(path) != linkDir {
		return nil, err
	}
	if dev := findVirtioPort(sysDir, filepath.Base(path)); dev != "" {
		return os.OpenFile(filepath.Join(devDir, dev), os.O_RDWR, 0)
	}
	return nil, err
}

// findVirtioPort returns the device name (vport0p1) of the virtio-serial port called name.
func findVirtioPort(sysDir, name string) string {
	entries, err := os.ReadDir(sysDir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(sysDir, e.Name(), "name"))
		if err == nil && strings.TrimSpace(string(b)) == name {
			return e.Name()
		}
	}
	return ""
}

// servePort keeps the port open. Every (re)connection starts a fresh init; a read error
// or end of file (on virtio-serial: the host side is not connected) closes the port and
// retries after reconnectMs.
func (a *Agent) servePort(ctx context.Context) {
	for ctx.Err() == nil {
		port, err := openPort(a.cfg.Port)
		if err != nil {
			a.log.Printf("port %s: %v (retrying)", a.cfg.Port, err)
		} else {
			a.session(ctx, port)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(a.cfg.ReconnectMs) * time.Millisecond):
		}
	}
}

func (a *Agent) session(ctx context.Context, port io.ReadWriteCloser) {
	for len(a.outbound) > 0 { // lines meant for a previous connection
		<-a.outbound
	}
	done := make(chan struct{})
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); a.writeLoop(port, done) }()
	stop := context.AfterFunc(ctx, func() {
		a.with(func(c *core.Core, _ int64) core.Output { return c.Shutdown("shutdown") })
		time.Sleep(50 * time.Millisecond) // let the writer flush exit
		_ = port.Close()
	})
	a.with(func(c *core.Core, now int64) core.Output { return c.Start(now) })
	a.readLoop(port)
	a.with(func(c *core.Core, _ int64) core.Output { c.PortClosed(); return core.Output{} })
	stop()
	close(done)
	_ = port.Close()
	<-writerDone
}

func (a *Agent) readLoop(port io.Reader) {
	framer := wire.NewFramer(wire.MaxLineBytes)
	buf := make([]byte, 8192)
	for {
		n, err := port.Read(buf)
		if n > 0 {
			frames := framer.Push(buf[:n])
			a.with(func(c *core.Core, now int64) core.Output {
				var out core.Output
				for _, f := range frames {
					if f.Oversize {
						c.Oversize()
						continue
					}
					o := c.Receive(f.Line, now)
					out.Wire = append(out.Wire, o.Wire...)
					out.Apps = append(out.Apps, o.Apps...)
				}
				return out
			})
		}
		if err != nil {
			return
		}
	}
}

func (a *Agent) writeLoop(port io.Writer, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case line := <-a.outbound:
			select {
			case <-done: // the session ended while this line waited: it was meant for it
				return
			default:
			}
			if _, err := port.Write(line); err != nil {
				if errors.Is(err, os.ErrClosed) {
					return
				}
				a.log.Printf("port write: %v", err)
			}
		}
	}
}

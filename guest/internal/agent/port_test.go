package agent

import (
	"os"
	"path/filepath"
	"testing"
)

// A port plugged in while the guest runs, with no udev to make /dev/virtio-ports/<name>:
// found by its name in sysfs.
func TestOpenPortFindsAPortByItsSysfsName(t *testing.T) {
	root := t.TempDir()
	links, sys, dev := filepath.Join(root, "dev/virtio-ports"), filepath.Join(root, "sys"), filepath.Join(root, "dev")
	for _, d := range []string{links, filepath.Join(sys, "vport0p1"), filepath.Join(sys, "vport1p1")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(sys, "vport0p1", "name"), "org.qemu.guest_agent.0\n")
	write(filepath.Join(sys, "vport1p1", "name"), "org.vmkeeper.heartbeat.0\n")
	write(filepath.Join(dev, "vport1p1"), "")

	f, err := openPortIn(filepath.Join(links, "org.vmkeeper.heartbeat.0"), links, sys, dev)
	if err != nil {
		t.Fatalf("port not found through sysfs: %v", err)
	}
	name := f.(*os.File).Name()
	_ = f.Close()
	if name != filepath.Join(dev, "vport1p1") {
		t.Fatalf("opened %s, want the heartbeat port's device", name)
	}

	if _, err := openPortIn(filepath.Join(links, "org.other.0"), links, sys, dev); err == nil {
		t.Fatal("a port that no sysfs entry names must not open")
	}
	if _, err := openPortIn(filepath.Join(root, "elsewhere/org.vmkeeper.heartbeat.0"), links, sys, dev); err == nil {
		t.Fatal("only /dev/virtio-ports paths fall back to sysfs")
	}
}

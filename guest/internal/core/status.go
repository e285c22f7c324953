package core

// Status is the snapshot returned by the local socket's status request.
type Status struct {
	State          State            `json:"state"`
	BootID         string           `json:"bootId"`
	IntervalMs     int              `json:"intervalMs,omitempty"`
	Threshold      int              `json:"threshold,omitempty"`
	Health         string           `json:"health"`
	Reason         string           `json:"reason,omitempty"`
	Checks         []CheckStatus    `json:"checks"`
	Apps           []AppStatus      `json:"apps"`
	PendingActions []string         `json:"pendingActions"`
	Counters       map[string]int64 `json:"counters"`
}

// CheckStatus is one health-check command's latest result.
type CheckStatus struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

// AppStatus is one registered application.
type AppStatus struct {
	Name      string `json:"name"`
	Critical  bool   `json:"critical"`
	Connected bool   `json:"connected"`
	Healthy   bool   `json:"healthy"`
	Failed    bool   `json:"failed"`
	Reason    string `json:"reason,omitempty"`
}

// Status returns a copy of the current state and counters.
func (c *Core) Status() Status {
	healthy, reason := c.Health()
	s := Status{State: c.state, BootID: c.cfg.BootID, Health: "healthy", Reason: reason, Checks: []CheckStatus{}, Apps: []AppStatus{}, PendingActions: c.pendingIDs(), Counters: map[string]int64{}}
	if !healthy {
		s.Health = "unhealthy"
	}
	if c.state == Active {
		s.IntervalMs, s.Threshold = c.intervalMs, c.threshold
	}
	for _, name := range sortedKeys(c.checks) {
		ch := c.checks[name]
		s.Checks = append(s.Checks, CheckStatus{Name: name, OK: ch.ok, Reason: ch.reason})
	}
	for _, name := range sortedKeys(c.apps) {
		a := c.apps[name]
		s.Apps = append(s.Apps, AppStatus{Name: name, Critical: a.critical, Connected: a.connected, Healthy: a.healthy, Failed: a.failed, Reason: a.reason})
	}
	for k, v := range c.counters {
		s.Counters[k] = v
	}
	return s
}

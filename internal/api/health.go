package api

import "time"

// Probe is one probe on one host (a target, PROBE@HOST) and where it
// stands.
type Probe struct {
	ID       string `json:"id"`
	Probe    string `json:"probe"`
	Host     string `json:"host"`
	Kind     string `json:"kind"`
	Target   string `json:"target,omitempty"`
	Interval string `json:"interval"`
	// State is unknown, up or down.
	State string `json:"state"`
	// Since is when the target entered its state; absent while unknown.
	Since *time.Time   `json:"since,omitempty"`
	Last  *ProbeResult `json:"last,omitempty"`
}

// ProbeResult is one run of a probe.
type ProbeResult struct {
	At     time.Time `json:"at"`
	TookMS int64     `json:"took_ms"`
	OK     bool      `json:"ok"`
	// Reason is the condition that failed, with what was seen.
	Reason string `json:"reason,omitempty"`
}

// Probes is the answer of GET /api/v1/probes.
type Probes struct {
	Probes []Probe `json:"probes"`
}

// Alert is an alert the daemon raised, firing or resolved lately.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Status is firing or resolved.
	Status   string     `json:"status"`
	StartsAt time.Time  `json:"starts_at"`
	EndsAt   *time.Time `json:"ends_at,omitempty"`
	// Muted says why receivers are not told about it, if they are not:
	// the silences that match it, or the rollout that has its host down.
	SilencedBy  []string `json:"silenced_by,omitempty"`
	Maintenance string   `json:"maintenance,omitempty"`
	// Notified is true once a receiver was told it fires.
	Notified bool `json:"notified"`
}

// Alerts is the answer of GET /api/v1/alerts.
type Alerts struct {
	Alerts []Alert `json:"alerts"`
}

// NewSilence is the body of POST /api/v1/silences.
type NewSilence struct {
	// Matchers select the alerts to mute, all of them matching (like
	// `host="web-01"` or `alertname=~"Probe.*"`).
	Matchers []string `json:"matchers"`
	// Starts defaults to now; Ends is required.
	Starts  *time.Time `json:"starts,omitempty"`
	Ends    time.Time  `json:"ends"`
	Comment string     `json:"comment"`
}

// Silence is a manual silence.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []string  `json:"matchers"`
	Starts    time.Time `json:"starts"`
	Ends      time.Time `json:"ends"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment"`
	// State is active, pending (starts later) or expired.
	State string `json:"state"`
}

// Silences is the answer of GET /api/v1/silences.
type Silences struct {
	Silences []Silence `json:"silences"`
}

// AlertmanagerMessage is the payload of Alertmanager's webhook receiver,
// version 4, as POST /api/v1/alertmanager reads it: the fields of
// Alertmanager 0.25 on. Later versions add others (notification_reason,
// routeLabels), which the receiver ignores.
type AlertmanagerMessage struct {
	Version           string              `json:"version"`
	GroupKey          string              `json:"groupKey"`
	TruncatedAlerts   int                 `json:"truncatedAlerts"`
	Status            string              `json:"status"`
	Receiver          string              `json:"receiver"`
	GroupLabels       map[string]string   `json:"groupLabels"`
	CommonLabels      map[string]string   `json:"commonLabels"`
	CommonAnnotations map[string]string   `json:"commonAnnotations"`
	ExternalURL       string              `json:"externalURL"`
	Alerts            []AlertmanagerAlert `json:"alerts"`
}

// AlertmanagerAlert is one alert of an AlertmanagerMessage.
type AlertmanagerAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Paused is the answer of POST /api/v1/alertmanager: the rollouts the
// message paused, and its resolved alerts that had fired for a rollout.
type Paused struct {
	Rollouts []PausedRollout `json:"paused"`
	Resolved []ResolvedAlert `json:"resolved"`
}

// ResolvedAlert is an alert matching a rollout's pause_on_alerts that
// resolved; Resumed says that the rollout resumed.
type ResolvedAlert struct {
	ID      string `json:"id"`
	Alert   string `json:"alert"`
	Resumed bool   `json:"resumed"`
}

// PausedRollout is a rollout an alert paused.
type PausedRollout struct {
	ID string `json:"id"`
	// Alert names the alert by its labels.
	Alert string `json:"alert"`
}

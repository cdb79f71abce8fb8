package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/http"
	"time"

	"github.com/illico-dev/illico/internal/deliver"
	"github.com/illico-dev/illico/internal/labels"
)

type webhook struct {
	cfg    WebhookConfig
	client *http.Client
}

// amAlert and amMessage are Alertmanager's webhook payload, version 4, so
// that what already reads Alertmanager can read illico.
type amAlert struct {
	Status       Status            `json:"status"`
	Labels       labels.Set        `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

type amMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            Status            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       labels.Set        `json:"groupLabels"`
	CommonLabels      labels.Set        `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

func payload(n Notification) amMessage {
	all := append(append([]Alert{}, n.Firing...), n.Resolved...)
	m := amMessage{
		Version: "4", GroupKey: n.GroupKey, Status: n.Status(), Receiver: n.Receiver,
		GroupLabels: n.GroupLabels, CommonLabels: labels.Set{}, CommonAnnotations: map[string]string{},
		Alerts: make([]amAlert, len(all)),
	}
	for i, a := range all {
		sum := sha256.Sum256([]byte(a.Labels.Fingerprint()))
		m.Alerts[i] = amAlert{
			Status: a.Status(), Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt, EndsAt: a.EndsAt,
			Fingerprint: hex.EncodeToString(sum[:8]),
		}
	}
	if len(all) > 0 {
		maps.Copy(m.CommonLabels, all[0].Labels)
		maps.Copy(m.CommonAnnotations, all[0].Annotations)
		for _, a := range all[1:] {
			maps.DeleteFunc(m.CommonLabels, func(k, v string) bool { return a.Labels[k] != v })
			maps.DeleteFunc(m.CommonAnnotations, func(k, v string) bool { return a.Annotations[k] != v })
		}
	}
	return m
}

func (w *webhook) send(ctx context.Context, n Notification) error {
	h := http.Header{}
	if w.cfg.BearerToken != "" {
		h.Set("Authorization", "Bearer "+w.cfg.BearerToken.Reveal())
	}
	return deliver.Post(ctx, w.client, deliver.Webhook{URL: w.cfg.URL, Header: h, Body: payload(n)})
}

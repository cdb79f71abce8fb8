package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body,
// keyed with the subscriber's secret.
const SignatureHeader = "X-Illico-Signature"

// Payload is the JSON body of every webhook.
type Payload struct {
	// Kind is "subscription.confirm" or "notification".
	Kind     string    `json:"kind"`
	Key      string    `json:"key,omitempty"`
	Language string    `json:"language"`
	Subject  string    `json:"subject,omitempty"`
	Body     string    `json:"body,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	// ConfirmURL, on a confirmation, is the link to GET to confirm.
	ConfirmURL     string `json:"confirm_url,omitempty"`
	UnsubscribeURL string `json:"unsubscribe_url,omitempty"`
}

// Poster posts signed webhooks.
type Poster struct {
	client *http.Client
}

// NewPoster returns a Poster sending with client.
func NewPoster(client *http.Client) *Poster {
	return &Poster{client: client}
}

// Post sends p to rawURL, signed with secret. Its errors hold the host only:
// the URL's path may be a credential.
func (p *Poster) Post(ctx context.Context, rawURL string, secret fleet.Secret, body Payload) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode payload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		return permanent{errors.New("webhook: bad url")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "illico")
	req.Header.Set(SignatureHeader, signature(secret, b))
	resp, err := p.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("post to %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500 || slices.Contains([]int{http.StatusTooManyRequests, http.StatusRequestTimeout}, resp.StatusCode):
		return fmt.Errorf("post to %s: %s", req.URL.Host, resp.Status)
	}
	return permanent{fmt.Errorf("post to %s: %s", req.URL.Host, resp.Status)}
}

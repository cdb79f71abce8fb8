package subscribers

import (
	"context"
	"net/http"
	"time"

	"github.com/illico-dev/illico/internal/deliver"
	"github.com/illico-dev/illico/internal/fleet"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body,
// keyed with the subscriber's secret.
const SignatureHeader = deliver.SignatureHeader

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
	return deliver.Post(ctx, p.client, deliver.Webhook{URL: rawURL, Body: body, Secret: secret})
}

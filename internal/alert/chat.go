package alert

import (
	"context"
	"net/http"

	"github.com/illico-dev/illico/internal/deliver"
)

type chat struct {
	cfg    ChatConfig
	client *http.Client
}

type chatMessage struct {
	Text     string `json:"text"`
	Channel  string `json:"channel,omitempty"`
	Username string `json:"username,omitempty"`
}

func (c *chat) send(ctx context.Context, n Notification) error {
	return deliver.Post(ctx, c.client, deliver.Webhook{URL: c.cfg.URL.Reveal(), Body: chatMessage{Text: n.Text(), Channel: c.cfg.Channel, Username: c.cfg.Username}})
}

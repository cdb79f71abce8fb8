package alert

import (
	"context"
	"net/http"
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
	return post(ctx, c.client, c.cfg.URL.Reveal(), http.Header{}, chatMessage{Text: n.Text(), Channel: c.cfg.Channel, Username: c.cfg.Username})
}

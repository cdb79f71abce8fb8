// Package client is the typed client of illico's HTTP API, for the command
// line and for scripts written in Go. Every error it returns is a
// *fleet.Error whose kind says what went wrong (unauthorized, not found,
// unavailable…), so that callers map it to an exit code without reading
// messages.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
)

// EnvServer and EnvToken name the variables the command line reads the
// daemon's address and the token from; errors mention them.
const (
	EnvServer = "ILLICO_SERVER"
	EnvToken  = "ILLICO_TOKEN"
)

// maxAnswer bounds what the client reads from the daemon.
const maxAnswer = 64 << 20

// Client talks to one daemon with one token.
type Client struct {
	base  *url.URL
	token fleet.Secret
	http  *http.Client
}

// New returns a client for the daemon at baseURL (like
// http://127.0.0.1:8080), authenticating with token. A nil httpClient is
// http.DefaultClient.
func New(baseURL, token string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fleet.Errorf(fleet.KindInvalid, "daemon address %q is not a URL like http://127.0.0.1:8080 (set %s)", baseURL, EnvServer)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: u, token: fleet.Secret(token), http: httpClient}, nil
}

// do sends a request and decodes a success into out (unless nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return &fleet.Error{Kind: fleet.KindUnavailable, Msg: fmt.Sprintf("read the answer of %s", c.base.Redacted()), Err: err}
	}
	if resp.StatusCode >= 300 {
		err := decodeError(resp.StatusCode, data)
		if fleet.KindOf(err) == fleet.KindUnauthorized && c.token != "" {
			return fleet.Errorf(fleet.KindUnauthorized, "%v (check %s)", err, EnvToken)
		}
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode the answer of %s %s: %w", method, path, err)
	}
	return nil
}

func (c *Client) unreachable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := fmt.Sprintf("cannot reach the illico daemon at %s (set %s to its address)", c.base.Redacted(), EnvServer)
	// The URL in a *url.Error repeats what the message says.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	return &fleet.Error{Kind: fleet.KindUnavailable, Msg: msg, Err: err}
}

// decodeError turns an answer that is not a success into a *fleet.Error:
// from its api.ErrorBody if it has one, from its status code otherwise
// (a proxy in between may answer in HTML).
func decodeError(status int, data []byte) error {
	var body api.ErrorBody
	if err := json.Unmarshal(data, &body); err == nil && body.Error.Message != "" {
		kind := httpjson.ParseKind(body.Error.Kind)
		if body.Error.Kind == "" {
			kind = httpjson.KindOfStatus(status)
		}
		return &fleet.Error{Kind: kind, Msg: body.Error.Message}
	}
	msg := fmt.Sprintf("the daemon answered %d %s", status, http.StatusText(status))
	if text := strings.TrimSpace(string(data)); text != "" && len(text) < 200 && !strings.ContainsAny(text, "<>") {
		msg += ": " + text
	}
	return &fleet.Error{Kind: httpjson.KindOfStatus(status), Msg: msg}
}

// Health checks that the daemon and its database answer.
func (c *Client) Health(ctx context.Context) error {
	var h api.Health
	return c.do(ctx, http.MethodGet, "/healthz", nil, &h)
}

// Inventory returns the fleet's topology and counts.
func (c *Client) Inventory(ctx context.Context) (api.Inventory, error) {
	var inv api.Inventory
	err := c.do(ctx, http.MethodGet, api.Prefix+"/inventory", nil, &inv)
	return inv, err
}

// ReloadInventory makes the daemon re-read its inventory file. A file with
// problems is refused (kind fleet.KindInvalid, every problem in the message)
// and the daemon keeps the inventory it had.
func (c *Client) ReloadInventory(ctx context.Context) (api.Inventory, error) {
	var inv api.Inventory
	err := c.do(ctx, http.MethodPost, api.Prefix+"/inventory/reload", nil, &inv)
	return inv, err
}

// Hosts lists every host, in inventory order.
func (c *Client) Hosts(ctx context.Context) ([]api.Host, error) {
	var out api.Hosts
	err := c.do(ctx, http.MethodGet, api.Prefix+"/hosts", nil, &out)
	return out.Hosts, err
}

// Host returns the host named name.
func (c *Client) Host(ctx context.Context, name string) (api.Host, error) {
	var out api.Host
	err := c.do(ctx, http.MethodGet, api.Prefix+"/hosts/"+url.PathEscape(name), nil, &out)
	return out, err
}

// Groups lists every group, in inventory order.
func (c *Client) Groups(ctx context.Context) ([]api.Group, error) {
	var out api.Groups
	err := c.do(ctx, http.MethodGet, api.Prefix+"/groups", nil, &out)
	return out.Groups, err
}

// Group returns the group named name.
func (c *Client) Group(ctx context.Context, name string) (api.Group, error) {
	var out api.Group
	err := c.do(ctx, http.MethodGet, api.Prefix+"/groups/"+url.PathEscape(name), nil, &out)
	return out, err
}

// Tokens lists every token, revoked ones included.
func (c *Client) Tokens(ctx context.Context) ([]api.Token, error) {
	var out api.Tokens
	err := c.do(ctx, http.MethodGet, api.Prefix+"/tokens", nil, &out)
	return out.Tokens, err
}

// CreateToken creates a token; its secret is in the answer, and only there.
func (c *Client) CreateToken(ctx context.Context, name, role string) (api.CreatedToken, error) {
	var out api.CreatedToken
	err := c.do(ctx, http.MethodPost, api.Prefix+"/tokens", api.CreateToken{Name: name, Role: role}, &out)
	return out, err
}

// RevokeToken revokes the token with id.
func (c *Client) RevokeToken(ctx context.Context, id int64) (api.Token, error) {
	var out api.Token
	err := c.do(ctx, http.MethodDelete, api.Prefix+"/tokens/"+strconv.FormatInt(id, 10), nil, &out)
	return out, err
}

package deliver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of a signed
// body, keyed with the receiver's secret.
const SignatureHeader = "X-Illico-Signature"

// DefaultTimeout bounds a post or a mail when neither it nor its context
// sets a limit.
const DefaultTimeout = 30 * time.Second

// Webhook is one POST of a JSON body.
type Webhook struct {
	URL    string
	Header http.Header
	// Body is sent encoded as JSON.
	Body any
	// Secret, when set, signs the body (SignatureHeader).
	Secret fleet.Secret
	// Timeout bounds the post; when zero, the context's deadline does, or
	// else DefaultTimeout.
	Timeout time.Duration
}

// Post sends w with client and judges the answer: a 2xx is a success; a
// 5xx, a 408, a 429 or no answer at all is worth another try, after the
// Retry-After the server may have asked for; anything else is permanent.
// Its errors name the host only: the URL's path, query or user may be the
// credential.
func Post(ctx context.Context, client *http.Client, w Webhook) error {
	b, err := json.Marshal(w.Body)
	if err != nil {
		return Permanent(fmt.Errorf("encode payload: %w", err))
	}
	ctx, cancel := withTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(b))
	if err != nil || req.URL.Host == "" {
		return Permanent(errors.New("post: bad url"))
	}
	req.Header = w.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "illico")
	if w.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(w.Secret, b))
	}
	host := req.URL.Host
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("post to %s: %w", host, redacted{err: err, hide: urlSecrets(req.URL)})
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c >= 500 || c == http.StatusTooManyRequests || c == http.StatusRequestTimeout:
		return &failure{err: fmt.Errorf("post to %s: %s", host, resp.Status), after: retryAfter(resp.Header)}
	}
	return Permanent(fmt.Errorf("post to %s: %s", host, resp.Status))
}

// Sign is the SignatureHeader of body, keyed with secret.
func Sign(secret fleet.Secret, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret.Reveal()))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// urlSecrets are the parts of u an error must not show.
func urlSecrets(u *url.URL) []string {
	hide := []string{u.RawQuery, u.Fragment}
	if u.User != nil {
		hide = append(hide, u.User.String())
	}
	if len(u.Path) > 1 {
		hide = append(hide, u.Path, u.EscapedPath())
	}
	return hide
}

// maxRetryAfter bounds what a server may ask for, before the Schedule's own
// bound: far beyond any sane wait, and far from overflowing.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads Retry-After, in seconds or as a date. A date is read
// against the answer's own Date, so that the two clocks need not agree.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(min(max(s, 0), int64(maxRetryAfter/time.Second))) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	now, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return 0
	}
	return min(max(at.Sub(now), 0), maxRetryAfter)
}

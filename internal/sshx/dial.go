package sshx

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/illico-dev/illico/internal/fleet"
)

// dial connects to h and authenticates. The host's connect timeout bounds
// the TCP connect and the SSH handshake together: a frozen host accepts the
// connection in its kernel but never sends its banner.
func (p *Pool) dial(ctx context.Context, h *fleet.Host) (*ssh.Client, error) {
	addr := h.SSHAddress()
	timeout := h.SSH.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if h.SSH.KnownHosts == "" {
		return nil, fleet.Errorf(fleet.KindForbidden,
			"%s: no known_hosts file is set, and illico never connects without checking the host key", h.Name)
	}
	hostKeys, err := knownhosts.New(h.SSH.KnownHosts)
	if err != nil {
		return nil, &fleet.Error{Kind: fleet.KindForbidden, Msg: fmt.Sprintf("%s: read known_hosts", h.Name), Err: err}
	}
	auth, done, err := p.auth(h)
	if err != nil {
		return nil, err
	}
	defer done()

	tcp, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil || isTimeout(err) {
			return nil, fleet.Errorf(fleet.KindUnavailable, "connect to %s (%s): no answer within %s", h.Name, addr, timeout)
		}
		return nil, &fleet.Error{Kind: fleet.KindUnavailable, Msg: fmt.Sprintf("connect to %s (%s)", h.Name, addr), Err: err}
	}
	if dl, ok := ctx.Deadline(); ok {
		tcp.SetDeadline(dl)
	}
	// The handshake takes no context: closing the pool must still end it.
	stop := context.AfterFunc(ctx, func() { tcp.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var keyErr error
	cfg := &ssh.ClientConfig{
		User: h.SSH.User,
		Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			if err := hostKeys(hostname, remote, key); err != nil {
				keyErr = hostKeyError(h, key, err)
				return keyErr
			}
			return nil
		},
		HostKeyAlgorithms: hostKeyAlgorithms(hostKeys, addr, tcp.RemoteAddr()),
		ClientVersion:     "SSH-2.0-illico",
	}
	sc, chans, reqs, err := ssh.NewClientConn(tcp, addr, cfg)
	if err != nil {
		tcp.Close()
		return nil, handshakeError(h, cfg, timeout, keyErr, err)
	}
	if !stop() {
		// The deadline meant to interrupt the handshake was set just after
		// it succeeded: the connection is unusable.
		sc.Close()
		if p.ctx.Err() != nil {
			return nil, errClosed
		}
		return nil, fleet.Errorf(fleet.KindUnavailable, "ssh handshake with %s (%s): no answer within %s", h.Name, addr, timeout)
	}
	tcp.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

func handshakeError(h *fleet.Host, cfg *ssh.ClientConfig, timeout time.Duration, keyErr, err error) error {
	addr := h.SSHAddress()
	switch {
	case keyErr != nil:
		return keyErr
	case strings.Contains(err.Error(), "no common algorithm for host key"):
		return fleet.Errorf(fleet.KindForbidden,
			"%s (%s) offers none of the host key types that %s holds for it (%s): its host keys changed, "+
				"or someone is intercepting the connection (man-in-the-middle); illico refuses to connect",
			h.Name, addr, h.SSH.KnownHosts, strings.Join(cfg.HostKeyAlgorithms, ", "))
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fleet.Errorf(fleet.KindForbidden,
			"%s (%s) accepted none of the keys offered for user %q (%s)", h.Name, addr, h.SSH.User, credentials(h))
	case isTimeout(err):
		return fleet.Errorf(fleet.KindUnavailable,
			"ssh handshake with %s (%s): no answer within %s", h.Name, addr, timeout)
	}
	return &fleet.Error{Kind: fleet.KindUnavailable, Msg: fmt.Sprintf("ssh handshake with %s (%s)", h.Name, addr), Err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// credentials names what was offered, for error messages.
func credentials(h *fleet.Host) string {
	var what []string
	if len(h.SSH.IdentityFiles) > 0 {
		what = append(what, "identity files "+strings.Join(h.SSH.IdentityFiles, ", "))
	}
	if h.SSH.Agent {
		what = append(what, "the keys of the ssh-agent")
	}
	if len(what) == 0 {
		return "no key configured"
	}
	return strings.Join(what, " and ")
}

// auth returns the public-key method for h: its identity files, then the
// agent's keys. One method for both, as the client tries each method once.
// done releases the agent connection once the handshake is over.
func (p *Pool) auth(h *fleet.Host) (ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	for _, path := range h.SSH.IdentityFiles {
		s, err := readIdentity(h, path)
		if err != nil {
			if h.SSH.Agent {
				// The agent may hold the key; say why it was skipped.
				p.log.Debug("identity file skipped", "host", h.Name, "reason", err)
				continue
			}
			return nil, nil, err
		}
		signers = append(signers, s)
	}
	done := func() {}
	var ag agent.ExtendedAgent
	if h.SSH.Agent {
		c, err := p.agent(h)
		switch {
		case err != nil && len(signers) == 0:
			return nil, nil, err
		case err != nil:
			p.log.Warn("ssh-agent unusable, trying the identity files only", "host", h.Name, "reason", err)
		default:
			ag = agent.NewClient(c)
			done = func() { c.Close() }
		}
	}
	if len(signers) == 0 && ag == nil {
		return nil, nil, fleet.Errorf(fleet.KindForbidden,
			"%s: no way to authenticate: set ssh.identity_files or ssh.agent in the inventory", h.Name)
	}
	method := ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		if ag == nil {
			return signers, nil
		}
		more, err := ag.Signers()
		if err != nil {
			p.log.Warn("ssh-agent did not list its keys", "host", h.Name, "err", err)
			return signers, nil
		}
		return append(signers[:len(signers):len(signers)], more...), nil
	})
	return method, done, nil
}

func readIdentity(h *fleet.Host, path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &fleet.Error{Kind: fleet.KindForbidden, Msg: fmt.Sprintf("%s: identity file", h.Name), Err: err}
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, fleet.Errorf(fleet.KindForbidden,
			"%s: identity file %s is protected by a passphrase, which illico cannot ask for: "+
				"load it into ssh-agent (ssh-add %s) and set ssh.agent: true in the inventory", h.Name, path, path)
	case err != nil:
		return nil, fleet.Errorf(fleet.KindForbidden,
			"%s: identity file %s is not a private key illico can read: %v", h.Name, path, err)
	}
	return s, nil
}

func (p *Pool) agent(h *fleet.Host) (net.Conn, error) {
	sock := p.getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, fleet.Errorf(fleet.KindForbidden,
			"%s: ssh.agent is true but SSH_AUTH_SOCK is not set: start ssh-agent and ssh-add your key", h.Name)
	}
	c, err := (&net.Dialer{Timeout: 5 * time.Second}).Dial("unix", sock)
	if err != nil {
		return nil, &fleet.Error{Kind: fleet.KindForbidden,
			Msg: fmt.Sprintf("%s: reach the ssh-agent at SSH_AUTH_SOCK", h.Name), Err: err}
	}
	return c, nil
}

// hostKeyAlgorithms lists the host key algorithms that fit the keys
// known_hosts holds for addr, so that a server with several host keys
// offers one we can check rather than its preferred one. The callback is
// asked about a throwaway key: its KeyError lists the known keys. A host
// that known_hosts lacks gets no restriction: its key is refused anyway,
// and the refusal names the key it offers.
func hostKeyAlgorithms(hostKeys ssh.HostKeyCallback, addr string, remote net.Addr) []string {
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(hostKeys(addr, remote, probe), &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		for _, a := range algorithmsFor(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// algorithmsFor maps a key type to the signature algorithms a server may
// use with such a key.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// hostKeyError turns a known_hosts refusal into a message that says what
// happened, where, and what to do.
func hostKeyError(h *fleet.Host, key ssh.PublicKey, err error) error {
	addr := h.SSHAddress()
	offered := key.Type() + " " + ssh.FingerprintSHA256(key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return fleet.Errorf(fleet.KindForbidden,
			"host key of %s (%s), %s, is revoked in %s:%d; illico refuses to connect",
			h.Name, addr, offered, re.Revoked.Filename, re.Revoked.Line)
	case errors.As(err, &ke) && len(ke.Want) == 0:
		return fleet.Errorf(fleet.KindForbidden,
			"host %s (%s) is not in %s: it offered the %s key %s. Check that fingerprint out of band, then add the key: %s >> %s",
			h.Name, addr, h.SSH.KnownHosts, key.Type(), ssh.FingerprintSHA256(key), keyscan(h, key), h.SSH.KnownHosts)
	case errors.As(err, &ke):
		var known []string
		for _, k := range ke.Want {
			known = append(known, fmt.Sprintf("%s:%d (%s %s)", k.Filename, k.Line, k.Key.Type(), ssh.FingerprintSHA256(k.Key)))
		}
		return fleet.Errorf(fleet.KindForbidden,
			"HOST KEY CHANGED for %s (%s): it offered %s, but %s holds another key for it. "+
				"Someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled. "+
				"illico refuses to connect; if the change is expected, remove the old entry (ssh-keygen -R '%s' -f %s) and add the new key",
			h.Name, addr, offered, strings.Join(known, ", "), knownhosts.Normalize(addr), h.SSH.KnownHosts)
	}
	return &fleet.Error{Kind: fleet.KindForbidden, Msg: fmt.Sprintf("check the host key of %s (%s)", h.Name, addr), Err: err}
}

// keyscan is the ssh-keyscan command that fetches key's type from h.
func keyscan(h *fleet.Host, key ssh.PublicKey) string {
	t := strings.TrimPrefix(key.Type(), "ssh-")
	if strings.HasPrefix(t, "ecdsa-") {
		t = "ecdsa"
	}
	cmd := "ssh-keyscan -t " + t
	if h.SSH.Port != 0 && h.SSH.Port != 22 {
		cmd += fmt.Sprintf(" -p %d", h.SSH.Port)
	}
	return cmd + " " + h.Address
}

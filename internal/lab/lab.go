// Package lab builds a simulated fleet on one machine, for demos, end-to-end
// tests and rehearsals: every host is a real OpenSSH sshd on a loopback
// address of its own with a customer site served by the lab process, the
// groups sit behind a real HAProxy, and hosts reboot, crash, freeze and fail
// to come back on demand.
//
// Up runs a whole lab inside the calling process; `illico lab up` runs it in
// a detached supervisor (Spawn, Supervise). Every process the lab starts has
// a pid file in DIR/run, so that Down cleans up even after the lab process
// was killed.
package lab

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/openssh"
	"github.com/illico-dev/illico/internal/yamlx"
)

// readyTimeout bounds how long Up waits for a fleet to answer, on top of
// what its context allows.
const readyTimeout = 3 * time.Minute

// bootWorkers bounds how many hosts boot at once: sshd start-up is mostly
// waiting, but hundreds at once would starve a small machine.
const bootWorkers = 16

// Lab is a running simulated fleet.
type Lab struct {
	dir    string
	opts   Options
	w      *world
	hosts  []*host
	byName map[string]*host
	info   Info
	lock   *os.File

	haproxy *haproxy
	control *http.Server

	stopOnce  sync.Once
	closeOnce sync.Once
	done      chan struct{}
}

// Available says why a lab cannot run here: sshd or HAProxy missing.
func Available() error {
	var errs []error
	if _, err := openssh.Available(); err != nil {
		errs = append(errs, err)
	}
	if _, err := haproxyPath(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Up builds the lab described by opts and returns once every host answers
// (SSH banner, site 200) and every HAProxy frontend serves.
func Up(ctx context.Context, opts Options) (*Lab, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, &fleet.Error{Kind: fleet.KindInvalid, Msg: "lab options", Err: err}
	}
	if err := Available(); err != nil {
		return nil, &fleet.Error{Kind: fleet.KindUnavailable, Msg: "cannot run a lab here", Err: err}
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("lab directory: %w", err)
	}
	if n := len(filepath.Join(dir, "haproxy.sock")); n > maxSocketPath {
		return nil, fleet.Errorf(fleet.KindInvalid, "lab directory %s is too long: HAProxy's socket path would be %d characters, Linux allows %d", dir, n, maxSocketPath)
	}
	for _, sub := range []string{"run", "bin", "hosts"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("lab directory: %w", err)
		}
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l := &Lab{dir: dir, opts: o, lock: lock, done: make(chan struct{}), byName: map[string]*host{}}
	if err := l.start(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Lab) start(ctx context.Context) error {
	o, dir := l.opts, l.dir
	pids := pidFiles{dir: filepath.Join(dir, "run")}
	if err := cleanStale(dir, pids); err != nil {
		return err
	}
	if err := pids.write("lab", os.Getpid()); err != nil {
		return err
	}
	specs, groups := layout(o)
	addrs := make([]string, len(specs))
	for i, s := range specs {
		addrs[i] = s.Address
	}
	sshPort, err := pickPort(addrs, nil)
	if err != nil {
		return err
	}
	sitePort, err := pickPort(addrs, map[int]bool{sshPort: true})
	if err != nil {
		return err
	}
	ports, err := pickPorts(len(groups)+2, map[int]bool{sshPort: true, sitePort: true})
	if err != nil {
		return err
	}
	ctlLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("control API: %w", err)
	}
	control := ctlLn.Addr().String()

	rng := rand.New(rand.NewPCG(o.Seed, o.Seed))
	var rngMu sync.Mutex
	l.w = &world{
		repo:     repository(),
		clock:    o.Clock,
		log:      o.Logger,
		sitePort: sitePort,
		rebootDelay: func() time.Duration {
			rngMu.Lock()
			defer rngMu.Unlock()
			return o.RebootMin + time.Duration(rng.Int64N(int64(o.RebootMax-o.RebootMin)+1))
		},
		pids: pids,
	}
	l.w.startSSH = l.startSSH(sshPort)
	for _, s := range specs {
		h := newHost(s, dir, l.w)
		l.hosts = append(l.hosts, h)
		l.byName[s.Name] = h
	}

	u, err := user.Current()
	if err != nil {
		return fmt.Errorf("current user: %w", err)
	}
	files := filesIn(dir)
	fronts := make([]frontend, len(groups))
	l.info = Info{
		Dir: dir, User: u.Username, Pid: os.Getpid(),
		SSHPort: sshPort, SitePort: sitePort,
		HAProxy:   HAProxyInfo{Config: filepath.Join(dir, "haproxy.cfg"), Socket: filepath.Join(dir, "haproxy.sock")},
		Frontends: map[string]string{},
		Control:   control,
		Files:     files,
		Options:   o.settings(),
	}
	for i, g := range groups {
		fronts[i] = frontend{Group: g.Name, Addr: "127.0.0.1:" + strconv.Itoa(ports[i])}
		l.info.Frontends[g.Name] = "http://" + fronts[i].Addr + "/"
	}
	byName := map[string]hostSpec{}
	for _, s := range specs {
		byName[s.Name] = s
		l.info.Hosts = append(l.info.Hosts, HostInfo{
			Name: s.Name, Address: s.Address,
			SSHAddress:  net.JoinHostPort(s.Address, strconv.Itoa(sshPort)),
			SiteAddress: net.JoinHostPort(s.Address, strconv.Itoa(sitePort)),
			Datacenter:  s.Datacenter, Site: s.Site, Group: s.Group,
		})
	}

	// Files first, so that a lab that fails to start can be looked at.
	if err := writeFileAtomic(files.Repo, repoFile(l.w.repo), 0o644); err != nil {
		return err
	}
	if err := writePlans(dir); err != nil {
		return fmt.Errorf("lab plans: %w", err)
	}
	if err := writeScripts(dir, control); err != nil {
		return fmt.Errorf("write host commands: %w", err)
	}
	authorized, err := writeClientKey(files.Identity)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, "authorized_keys"), authorized, 0o644); err != nil {
		return err
	}
	if err := l.writeHostKeys(files.KnownHosts, sshPort); err != nil {
		return err
	}
	// The daemon's API and its public status page, on ports free now.
	listen := "127.0.0.1:" + strconv.Itoa(ports[len(groups)])
	public := "127.0.0.1:" + strconv.Itoa(ports[len(groups)+1])
	if err := writeFileAtomic(files.Config, daemonConfig(listen, public), 0o644); err != nil {
		return err
	}
	inv := buildInventory(dir, u.Username, sshPort, sitePort, o, specs, groups)
	if err := writeInventory(files.Inventory, inv, dir); err != nil {
		return err
	}
	if err := writeFileAtomic(l.info.HAProxy.Config, haproxyConfig(l.info.HAProxy.Socket, groups, byName, sitePort, fronts), 0o644); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(dir, "lab.json"), l.info); err != nil {
		return err
	}

	l.control = serveControl(ctlLn, l.routes())
	if err := l.bootAll(); err != nil {
		return err
	}
	bin, err := haproxyPath()
	if err != nil {
		return err
	}
	os.Remove(l.info.HAProxy.Socket)
	l.haproxy, err = startHAProxy(bin, l.info.HAProxy.Config, o.Logger)
	if err != nil {
		return err
	}
	l.info.HAProxy.Pid = l.haproxy.pid()
	if err := pids.write("haproxy", l.haproxy.pid()); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(dir, "lab.json"), l.info); err != nil {
		return err
	}
	return l.waitReady(ctx)
}

// writeHostKeys gives every host a key of its own and lists them all in
// known_hosts, as [address]:port lines.
func (l *Lab) writeHostKeys(knownHosts string, sshPort int) error {
	var b strings.Builder
	for _, h := range l.hosts {
		if err := os.MkdirAll(h.dir, 0o755); err != nil {
			return err
		}
		key, err := ensureKey(h.path("ssh_host_ed25519_key"))
		if err != nil {
			return fmt.Errorf("host key of %s: %w", h.spec.Name, err)
		}
		b.WriteString(knownHostsLine(net.JoinHostPort(h.spec.Address, strconv.Itoa(sshPort)), key))
	}
	return writeFileAtomic(knownHosts, []byte(b.String()), 0o644)
}

func (l *Lab) startSSH(port int) func(h *host) (process, error) {
	path := "PATH=" + filepath.Join(l.dir, "bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	return func(h *host) (process, error) {
		s, err := openssh.Start(openssh.Config{
			Dir:            h.path("sshd"),
			ListenAddr:     net.JoinHostPort(h.spec.Address, strconv.Itoa(port)),
			HostKeyPath:    h.path("ssh_host_ed25519_key"),
			AuthorizedKeys: filepath.Join(l.dir, "authorized_keys"),
			Env: map[string]string{
				"ILLICO_LAB_HOST": h.spec.Name,
				"ILLICO_LAB_DIR":  l.dir,
				"PATH":            strings.TrimPrefix(path, "PATH="),
				// HOME is the host's own (openssh.Start's default): the lab
				// machine's rc files stay out of the hosts' sessions.
			},
		})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// bootAll resets and boots every host, a few at a time.
func (l *Lab) bootAll() error {
	sem := make(chan struct{}, bootWorkers)
	errs := make([]error, len(l.hosts))
	var wg sync.WaitGroup
	for i, h := range l.hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := h.reset(); err != nil {
				errs[i] = fmt.Errorf("reset %s: %w", h.spec.Name, err)
				return
			}
			errs[i] = h.Boot()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitReady waits until every host answers SSH and HTTP and every HAProxy
// frontend serves 200.
func (l *Lab) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var checks []func() error
	for _, hi := range l.info.Hosts {
		checks = append(checks,
			func() error { return sshBanner(ctx, hi.SSHAddress) },
			func() error { return httpOK(ctx, hc, "http://"+hi.SiteAddress+"/healthz") },
		)
	}
	checks = append(checks, func() error {
		_, err := runtimeCommand(ctx, l.info.HAProxy.Socket, "show info")
		return err
	})
	for _, g := range sortedKeys(l.info.Frontends) {
		checks = append(checks, func() error { return httpOK(ctx, hc, l.info.Frontends[g]) })
	}
	// HAProxy starts its servers half-way up; a test that waits for one to
	// go DOWN needs them fully UP first.
	checks = append(checks, func() error { return l.allUp(ctx) })
	for _, check := range checks {
		for {
			err := check()
			if err == nil {
				break
			}
			select {
			case <-l.haproxy.done:
				return fmt.Errorf("haproxy exited at start: %s", l.haproxy.out.tail())
			case <-ctx.Done():
				return fmt.Errorf("the lab is not ready: %w", err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	l.w.log.Info("lab ready", "hosts", len(l.hosts), "dir", l.dir)
	return nil
}

func (l *Lab) allUp(ctx context.Context) error {
	states, err := serverStates(ctx, l.info.HAProxy.Socket)
	if err != nil {
		return err
	}
	for _, h := range l.hosts {
		if st := states[h.spec.Group][h.spec.Name]; st != "UP" {
			return fmt.Errorf("haproxy: server %s/%s is %q", h.spec.Group, h.spec.Name, st)
		}
	}
	return nil
}

func sshBanner(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4)
	if _, err := conn.Read(buf); err != nil {
		return fmt.Errorf("ssh %s: %w", addr, err)
	}
	if string(buf) != "SSH-" {
		return fmt.Errorf("ssh %s: no SSH banner", addr)
	}
	return nil
}

func httpOK(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// Info returns where everything of the lab is, as lab.json holds it.
func (l *Lab) Info() Info { return l.info }

// Dir is the lab's directory, absolute.
func (l *Lab) Dir() string { return l.dir }

// Status returns every host's state, with HAProxy's view of it.
func (l *Lab) Status(ctx context.Context) []HostStatus {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	lb, _ := serverStates(ctx, l.info.HAProxy.Socket)
	out := make([]HostStatus, len(l.hosts))
	for i, h := range l.hosts {
		out[i] = h.status()
		out[i].Balancer = lb[h.spec.Group][h.spec.Name]
	}
	return out
}

// Fault kinds.
const (
	FaultCrash    = "crash"
	FaultFreeze   = "freeze"
	FaultNoReturn = "no-return"
	FaultErrors   = "errors"
)

// Fault injects a fault into target (a host name, datacenter=NAME or
// site=NAME) and returns the hosts it hit.
func (l *Lab) Fault(target, kind string) ([]string, error) {
	var apply func(h *host) error
	switch kind {
	case FaultCrash:
		apply = (*host).Crash
	case FaultFreeze:
		apply = (*host).Freeze
	case FaultNoReturn:
		apply = (*host).NoReturn
	case FaultErrors:
		apply = (*host).Errors
	default:
		msg := fmt.Sprintf("unknown fault %q: use crash, freeze, no-return or errors", kind)
		if c := yamlx.Closest(kind, []string{FaultCrash, FaultFreeze, FaultNoReturn, FaultErrors}); c != "" {
			msg = fmt.Sprintf("unknown fault %q (did you mean %q?)", kind, c)
		}
		return nil, fleet.Errorf(fleet.KindInvalid, "%s", msg)
	}
	return l.each(target, apply)
}

// Heal clears every fault of target: frozen hosts resume, hosts that are
// down boot.
func (l *Lab) Heal(target string) ([]string, error) {
	return l.each(target, (*host).Heal)
}

// Reboot reboots a host, as lab-reboot on it does.
func (l *Lab) Reboot(name string) error {
	h, err := l.host(name)
	if err != nil {
		return err
	}
	return h.Reboot()
}

func (l *Lab) each(target string, apply func(h *host) error) ([]string, error) {
	hosts, err := l.resolve(target)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(hosts))
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		names[i] = h.spec.Name
		wg.Go(func() { errs[i] = apply(h) })
	}
	wg.Wait()
	return names, errors.Join(errs...)
}

// resolve reads a fault target: a host name, datacenter=NAME or site=NAME.
func (l *Lab) resolve(target string) ([]*host, error) {
	key, value, isDomain := strings.Cut(target, "=")
	if !isDomain {
		h, err := l.host(target)
		if err != nil {
			return nil, err
		}
		return []*host{h}, nil
	}
	var field func(s hostSpec) string
	switch key {
	case "datacenter":
		field = func(s hostSpec) string { return s.Datacenter }
	case "site":
		field = func(s hostSpec) string { return s.Site }
	default:
		return nil, fleet.Errorf(fleet.KindInvalid, "target %q: use a host name, datacenter=NAME or site=NAME", target)
	}
	var out []*host
	var known []string
	for _, h := range l.hosts {
		if field(h.spec) == value {
			out = append(out, h)
		}
		known = append(known, field(h.spec))
	}
	if len(out) == 0 {
		return nil, notFound(key, value, known)
	}
	return out, nil
}

func (l *Lab) host(name string) (*host, error) {
	if h, ok := l.byName[name]; ok {
		return h, nil
	}
	names := make([]string, len(l.hosts))
	for i, h := range l.hosts {
		names[i] = h.spec.Name
	}
	return nil, notFound("host", name, names)
}

func notFound(what, name string, known []string) error {
	if c := yamlx.Closest(name, known); c != "" {
		return fleet.Errorf(fleet.KindNotFound, "no %s %q in the lab (did you mean %q?)", what, name, c)
	}
	return fleet.Errorf(fleet.KindNotFound, "no %s %q in the lab", what, name)
}

// Done is closed once the lab has shut down, by Close or by a stop request
// through the control API (illico lab down).
func (l *Lab) Done() <-chan struct{} { return l.done }

func (l *Lab) requestStop() {
	l.stopOnce.Do(func() {
		l.w.log.Info("stop requested")
		go l.Close()
	})
}

// Close stops every process and server of the lab and removes its pid files
// and HAProxy's socket; the lab's other files stay for the user.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		var wg sync.WaitGroup
		sem := make(chan struct{}, bootWorkers)
		for _, h := range l.hosts {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				h.close()
			})
		}
		wg.Wait()
		if l.haproxy != nil {
			l.haproxy.stop()
		}
		if l.control != nil {
			l.control.Close()
		}
		pids := pidFiles{dir: filepath.Join(l.dir, "run")}
		pids.remove("haproxy")
		os.Remove(filepath.Join(l.dir, "haproxy.sock"))
		pids.remove("lab")
		if l.lock != nil {
			l.lock.Close()
		}
		if l.w != nil {
			l.w.log.Info("lab stopped", "dir", l.dir)
		}
		close(l.done)
	})
	return nil
}

// lockDir takes DIR/run/lab.lock for the lab's lifetime: the kernel drops it
// when the lab process dies, however it dies.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "run", "lab.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lab lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fleet.Errorf(fleet.KindConflict, "a lab is already running in %s (stop it with illico lab down --dir %s)", dir, dir)
	}
	return f, nil
}

// cleanStale removes the pid files of a lab that died, and refuses to go on
// while any of its processes still runs.
func cleanStale(dir string, pids pidFiles) error {
	entries, err := pids.list()
	if err != nil {
		return err
	}
	var alive []string
	for _, e := range entries {
		if e.alive() {
			alive = append(alive, fmt.Sprintf("%s (pid %d)", e.name, e.pid))
			continue
		}
		pids.remove(e.name)
	}
	if len(alive) > 0 {
		return fleet.Errorf(fleet.KindConflict, "processes of an earlier lab still run in %s: %s (stop them with illico lab down --dir %s)", dir, strings.Join(alive, ", "), dir)
	}
	return nil
}

// running reports whether a lab process runs in dir.
func running(dir string) bool {
	entries, _ := pidFiles{dir: filepath.Join(dir, "run")}.list()
	for _, e := range entries {
		if e.name == "lab" && e.alive() {
			return true
		}
	}
	return false
}

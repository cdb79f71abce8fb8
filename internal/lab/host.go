package lab

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// dropDelay is how long after a reboot request the host drops its
// connections: long enough for `lab-reboot` to return, as `systemctl reboot`
// does, before sshd goes away under it.
const dropDelay = 200 * time.Millisecond

// process is a host's sshd as the lab drives it.
type process interface {
	Stop() error
	Freeze() error
	Thaw() error
	Pid() int
}

// world is what every host shares: the repository, the timers, the way to
// start an sshd and the pid files.
type world struct {
	repo     []release
	clock    Clock
	log      *slog.Logger
	sitePort int
	// rebootDelay draws how long a reboot keeps a host down.
	rebootDelay func() time.Duration
	startSSH    func(h *host) (process, error)
	pids        pidFiles
}

type power int

const (
	powerUp power = iota
	powerRebooting
	powerDown
)

// host is one simulated machine. Every change of state happens under mu, and
// every timer carries the generation it was armed in, so that a timer that
// fires after a crash, a heal or a new boot does nothing.
type host struct {
	spec hostSpec
	dir  string // DIR/hosts/NAME
	w    *world

	mu sync.Mutex
	// power says whether the machine runs; frozen (its processes stopped) and
	// noReturn (the next reboot never ends) are faults on top of it, and so
	// is errors: its site answers 500 to its customers while /healthz
	// stays ok, so that the host stays in rotation (a broken application
	// behind a shallow health check).
	power         power
	errors        bool
	frozen        bool
	thaw          chan struct{} // closed when a frozen host thaws
	noReturn      bool
	rebootPending bool
	gen           uint64
	timer         Timer
	closed        bool
	bootID        string
	running       versions
	ssh           process
	site          *site
	bootErr       string
}

func newHost(spec hostSpec, dir string, w *world) *host {
	return &host{spec: spec, dir: filepath.Join(dir, "hosts", spec.Name), w: w, power: powerDown}
}

func (h *host) path(name string) string { return filepath.Join(h.dir, name) }

// reset writes the state of a freshly installed machine.
func (h *host) reset() error {
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return err
	}
	os.Remove(h.path("reboot-required"))
	return writeFileAtomic(h.path("installed"), initialVersions(h.w.repo).encode(h.w.repo), 0o644)
}

// Boot starts the machine; it is how Up brings hosts up.
func (h *host) Boot() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errClosed
	}
	return h.boot()
}

// boot brings the machine up with a new boot id and the installed versions
// now running. A host frozen while down comes back frozen, as a partitioned
// machine would. Callers hold mu.
func (h *host) boot() error {
	h.gen++
	h.bootErr = ""
	err := h.start()
	if err != nil {
		h.shutdown()
		h.power = powerDown
		h.bootErr = err.Error()
		h.w.log.Error("boot failed", "host", h.spec.Name, "err", err)
		return fmt.Errorf("boot %s: %w", h.spec.Name, err)
	}
	h.power = powerUp
	h.w.log.Info("booted", "host", h.spec.Name, "boot_id", h.bootID, "frozen", h.frozen)
	return nil
}

func (h *host) start() error {
	installed, err := readVersions(h.path("installed"))
	if err != nil {
		return fmt.Errorf("read installed packages: %w", err)
	}
	id := newBootID()
	if err := writeFileAtomic(h.path("boot_id"), []byte(id+"\n"), 0o644); err != nil {
		return err
	}
	if err := writeFileAtomic(h.path("running"), installed.encode(h.w.repo), 0o644); err != nil {
		return err
	}
	if err := os.Remove(h.path("reboot-required")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("clear reboot-required: %w", err)
	}
	h.bootID, h.running = id, installed
	ln, err := net.Listen("tcp", net.JoinHostPort(h.spec.Address, fmt.Sprint(h.w.sitePort)))
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	h.site = startSite(ln, h, h.w.log)
	p, err := h.w.startSSH(h)
	if err != nil {
		return fmt.Errorf("sshd: %w", err)
	}
	h.ssh = p
	if err := h.w.pids.write(sshdPidName(h.spec.Name), p.Pid()); err != nil {
		return err
	}
	if h.frozen {
		if err := p.Freeze(); err != nil {
			return fmt.Errorf("freeze sshd: %w", err)
		}
	}
	return nil
}

func sshdPidName(host string) string { return "sshd-" + host }

// shutdown kills the machine's processes: sshd and every session under it,
// and the site's listener and connections. Callers hold mu.
func (h *host) shutdown() {
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
	h.rebootPending = false
	if h.ssh != nil {
		if err := h.ssh.Stop(); err != nil {
			h.w.log.Error("stop sshd", "host", h.spec.Name, "err", err)
		}
		h.ssh = nil
	}
	h.w.pids.remove(sshdPidName(h.spec.Name))
	if h.site != nil {
		h.site.close()
		h.site = nil
	}
}

// Reboot does what `systemctl reboot` does: it returns at once, and the
// machine drops its connections a moment later. A host that is down,
// rebooting or frozen cannot have asked for it, so that is a conflict.
func (h *host) Reboot() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return errClosed
	case h.power != powerUp:
		return fleet.Errorf(fleet.KindConflict, "%s is %s: it cannot reboot", h.spec.Name, h.stateLocked())
	case h.frozen:
		return fleet.Errorf(fleet.KindConflict, "%s is frozen: it cannot reboot", h.spec.Name)
	case h.rebootPending:
		return nil
	}
	h.rebootPending = true
	gen := h.gen
	h.timer = h.w.clock.AfterFunc(dropDelay, func() { h.drop(gen) })
	h.w.log.Info("reboot requested", "host", h.spec.Name)
	return nil
}

// drop takes the machine down for the reboot, and schedules its return
// unless a no-return fault was armed.
func (h *host) drop(gen uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || gen != h.gen {
		return
	}
	h.timer = nil
	h.shutdown()
	h.gen++
	if h.noReturn {
		h.noReturn = false
		h.power = powerDown
		h.w.log.Info("rebooting, never to return", "host", h.spec.Name)
		return
	}
	h.power = powerRebooting
	d := h.w.rebootDelay()
	gen = h.gen
	h.timer = h.w.clock.AfterFunc(d, func() { h.comeBack(gen) })
	h.w.log.Info("rebooting", "host", h.spec.Name, "down_for", d)
}

func (h *host) comeBack(gen uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || gen != h.gen {
		return
	}
	h.timer = nil
	if h.noReturn {
		// Armed during the reboot: this is the reboot that never ends.
		h.noReturn = false
		h.power = powerDown
		h.gen++
		h.w.log.Info("reboot never returns", "host", h.spec.Name)
		return
	}
	_ = h.boot() // logged; the host stays down and says why in its status
}

// Crash kills the machine: it stays down until healed. Crashing a host that
// is down already changes nothing; crashing one that reboots cancels its return.
func (h *host) Crash() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errClosed
	}
	h.shutdown()
	h.gen++
	h.power = powerDown
	h.w.log.Info("crashed", "host", h.spec.Name)
	return nil
}

// Freeze stops the machine's processes, like a network partition: sshd and
// its sessions are stopped and the site holds every request. A host that is
// down or rebooting comes back frozen.
func (h *host) Freeze() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errClosed
	}
	if h.frozen {
		return nil
	}
	h.frozen = true
	h.thaw = make(chan struct{})
	if h.ssh != nil {
		if err := h.ssh.Freeze(); err != nil {
			return fmt.Errorf("freeze %s: %w", h.spec.Name, err)
		}
	}
	h.w.log.Info("frozen", "host", h.spec.Name)
	return nil
}

// NoReturn arms the fault that makes the next reboot (or the one under way)
// never come back.
func (h *host) NoReturn() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errClosed
	}
	h.noReturn = true
	h.w.log.Info("next reboot will not return", "host", h.spec.Name)
	return nil
}

// Errors makes the host's site answer 500 to every customer request while
// its health check still passes, until Heal.
func (h *host) Errors() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errClosed
	}
	h.errors = true
	h.w.log.Info("site answers errors", "host", h.spec.Name)
	return nil
}

// Heal clears every fault: a frozen host resumes with the same boot id, a
// host that is down boots with a new one, and a reboot under way ends when
// it was due to.
func (h *host) Heal() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errClosed
	}
	h.noReturn, h.errors = false, false
	if h.frozen {
		h.frozen = false
		close(h.thaw)
		h.thaw = nil
		if h.ssh != nil {
			if err := h.ssh.Thaw(); err != nil {
				return fmt.Errorf("thaw %s: %w", h.spec.Name, err)
			}
		}
	}
	h.w.log.Info("healed", "host", h.spec.Name)
	if h.power == powerDown {
		return h.boot()
	}
	return nil
}

// close stops the machine for good, when the lab shuts down.
func (h *host) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.shutdown()
	if h.thaw != nil {
		close(h.thaw)
		h.thaw = nil
	}
	h.power = powerDown
}

// Host states as status reports them.
const (
	StateUp        = "up"
	StateDown      = "down"
	StateFrozen    = "frozen"
	StateRebooting = "rebooting"
)

func (h *host) stateLocked() string {
	switch {
	case h.power == powerRebooting:
		return StateRebooting
	case h.power == powerDown:
		return StateDown
	case h.frozen:
		return StateFrozen
	}
	return StateUp
}

// HostStatus is what `illico lab status` shows of a host.
type HostStatus struct {
	Name  string `json:"name"`
	State string `json:"state"`
	// BootID is the current boot's id; empty while down.
	BootID         string            `json:"boot_id,omitempty"`
	Installed      map[string]string `json:"installed"`
	Running        map[string]string `json:"running,omitempty"`
	RebootRequired bool              `json:"reboot_required"`
	// Frozen is also set for a host that will come back frozen.
	Frozen   bool `json:"frozen,omitempty"`
	NoReturn bool `json:"no_return,omitempty"`
	// Errors says that the site answers 500 to customers (the errors fault).
	Errors bool   `json:"errors,omitempty"`
	Error  string `json:"error,omitempty"`
	// Balancer is the HAProxy state of the host's server (UP, DOWN, ...).
	Balancer string `json:"balancer,omitempty"`
}

func (h *host) status() HostStatus {
	h.mu.Lock()
	s := HostStatus{
		Name:     h.spec.Name,
		State:    h.stateLocked(),
		Frozen:   h.frozen,
		NoReturn: h.noReturn,
		Errors:   h.errors,
		Error:    h.bootErr,
	}
	if h.power == powerUp {
		s.BootID = h.bootID
		s.Running = h.running
	}
	h.mu.Unlock()
	// The installed versions and the marker belong to the scripts on the
	// host side, which change them over SSH at any time.
	installed, err := readVersions(h.path("installed"))
	if err != nil && s.Error == "" {
		s.Error = err.Error()
	}
	s.Installed = installed
	_, err = os.Stat(h.path("reboot-required"))
	s.RebootRequired = err == nil
	return s
}

var errClosed = fleet.Errorf(fleet.KindUnavailable, "the lab is shutting down")

// newBootID returns a random id shaped like a Linux boot id (a version 4 UUID).
func newBootID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

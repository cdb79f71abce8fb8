package server_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/illico-dev/illico/internal/deliver/smtptest"
	"github.com/illico-dev/illico/internal/fleet"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/client"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/openssh"
	"github.com/illico-dev/illico/internal/plan"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

// replica is one of several `illico serve` on one PostgreSQL database,
// run from its binary with a config file of its own (its ports, its
// advertise), and started again on that file when killed, as its
// supervisor would.
type replica struct {
	*daemonProcess
	name   string
	public string // the status page, on the public listener

	// alive is false from the moment the test kills the process until
	// its successor answers; gen counts the kills, so that a request in
	// flight across a kill is not held against the replica.
	mu    sync.Mutex
	alive bool
	gen   int
}

// startReplicas writes a config file per replica, each with its own
// inventory file, and starts them one after another: the first creates
// the admin token, whose secret it returns. extra, when set, adds to every
// config file what it returns for the public URL of the first replica's
// status page.
func startReplicas(t *testing.T, bin, dsn string, inventories []string, extra func(public string) string) ([]*replica, string) {
	t.Helper()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin.token")
	listens, publics := make([]string, len(inventories)), make([]string, len(inventories))
	for i := range inventories {
		listens[i], publics[i] = freeAddr(t), freeAddr(t)
	}
	var reps []*replica
	for i, inv := range inventories {
		name := fmt.Sprintf("r%d", i)
		config := filepath.Join(dir, name+".yaml")
		text := fmt.Sprintf("listen: %s\npublic_listen: %s\nadvertise: %q\ndb: %q\ninventory: %q\nadmin_token_file: %q\n",
			listens[i], publics[i], "http://"+listens[i], dsn, inv, tokenFile)
		if extra != nil {
			text += extra("http://" + publics[0])
		}
		if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		r := &replica{name: name, public: "http://" + publics[i], daemonProcess: &daemonProcess{
			t: t, bin: bin, config: config, url: "http://" + listens[i], logFile: filepath.Join(dir, name+".log"),
		}}
		t.Cleanup(r.stop)
		r.restart()
		reps = append(reps, r)
	}
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	return reps, strings.TrimSpace(string(token))
}

// freeAddr is a loopback address with a port free now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// restart starts the replica's process (again), on its config file.
func (r *replica) restart() {
	r.t.Helper()
	r.start()
	r.mu.Lock()
	r.alive = true
	r.mu.Unlock()
}

// killNow SIGKILLs the replica's process.
func (r *replica) killNow() {
	r.t.Helper()
	r.mu.Lock()
	r.alive = false
	r.gen++
	r.mu.Unlock()
	r.kill()
}

var healthClient = &http.Client{Timeout: 500 * time.Millisecond}

// health is the replica's /healthz.
func (r *replica) health() (api.Health, error) {
	var h api.Health
	resp, err := healthClient.Get(r.url + "/healthz")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("healthz: %s", resp.Status)
	}
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// awaitLeader polls the /healthz of every replica in reps until one says
// it leads, and fails if two do in one round.
func awaitLeader(reps []*replica, within time.Duration) (*replica, error) {
	deadline := time.Now().Add(within)
	for {
		var leads []*replica
		for _, r := range reps {
			if h, err := r.health(); err == nil && h.Leader {
				leads = append(leads, r)
			}
		}
		switch {
		case len(leads) > 1:
			return nil, fmt.Errorf("replicas %s and %s both say they lead", leads[0].name, leads[1].name)
		case len(leads) == 1:
			return leads[0], nil
		case time.Now().After(deadline):
			return nil, fmt.Errorf("no replica leads after %s", within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pagePolls asks the status page of every live replica for its page and
// its summary every 200 ms, and counts the answers that are not 200.
type pagePolls struct {
	ok, bad atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	failures []string
}

func pollStatusPages(reps []*replica) *pagePolls {
	pp := &pagePolls{stop: make(chan struct{})}
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, r := range reps {
		pp.wg.Go(func() {
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-pp.stop:
					return
				case <-tick.C:
				}
				r.mu.Lock()
				alive, gen := r.alive, r.gen
				r.mu.Unlock()
				if !alive {
					continue
				}
				path := []string{"/", "/api/v2/summary.json"}[i%2]
				resp, err := hc.Get(r.public + path)
				status := ""
				if err == nil {
					status = resp.Status
					resp.Body.Close()
				}
				r.mu.Lock()
				killed := r.gen != gen
				r.mu.Unlock()
				switch {
				case killed:
					// The request met the kill: the replica did not survive it.
				case err == nil && resp.StatusCode == http.StatusOK:
					pp.ok.Add(1)
				default:
					pp.bad.Add(1)
					pp.mu.Lock()
					pp.failures = append(pp.failures, fmt.Sprintf("%s %s%s at %s: %s %v", r.name, r.public, path, time.Now().Format("15:04:05.000"), status, err))
					pp.mu.Unlock()
				}
			}
		})
	}
	return pp
}

func (pp *pagePolls) end() (ok, bad int64, failures []string) {
	close(pp.stop)
	pp.wg.Wait()
	return pp.ok.Load(), pp.bad.Load(), pp.failures
}

// rolloutOn reads a rollout through the first live replica that answers:
// one that does not lead forwards to the leader, and none answers in the
// seconds with no leader.
func rolloutOn(t *testing.T, reps []*replica, token, id string) (api.Rollout, error) {
	t.Helper()
	var last error
	for _, r := range reps {
		r.mu.Lock()
		alive := r.alive
		r.mu.Unlock()
		if !alive {
			continue
		}
		c, err := client.New(r.url, token, &http.Client{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ro, err := c.Rollout(t.Context(), id)
		if err == nil {
			return ro, nil
		}
		last = err
	}
	return api.Rollout{}, last
}

// percentile is the nearest-rank percentile p (0-100) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	i := (p*len(s)+99)/100 - 1
	return s[max(i, 0)]
}

// The bar for several daemons: three replicas on one PostgreSQL
// database roll the urgent patch over a 20-host lab, with customer traffic
// through HAProxy the whole time, while the test SIGKILLs whichever
// replica leads at random moments and starts it again as its supervisor
// would. The rollout ends done, each host patched and rebooted exactly
// once, no customer request fails, and the status page of every replica
// that was not being killed answered every request.
func TestReplicasKilledAtRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds illico and rolls a patch over a 20-host lab with three replicas on PostgreSQL while killing the leader")
	}
	began := time.Now()
	bin := buildIllico(t)
	boots := &bootLog{boots: map[string]int{}}
	l := labtest.Start(t, lab.Options{Hosts: 20, RebootMin: time.Second, RebootMax: 3 * time.Second, Logger: slog.New(boots)})
	dsn := pgtest.Start(t)
	inv := l.Info().Files.Inventory
	// Customers subscribed to the page are mailed each update the rollout
	// makes, through the queue every replica drains.
	sink := smtptest.Start(t, 0)
	reps, token := startReplicas(t, bin, dsn, []string{inv, inv, inv}, func(public string) string {
		return fmt.Sprintf("status_page: {url: %q}\nsmtp: {address: %q, from: status@example.net}\n", public, sink.Addr())
	})
	subscribeByMail(t, reps[0].public, sink, "alice@example.net")
	before, bootsBefore := labStatus(l), boots.counts()
	tr := labtest.StartTraffic(l.Info().Frontends)
	pages := pollStatusPages(reps)

	lead, err := awaitLeader(reps, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Started through a replica that does not lead: it forwards.
	via := reps[(slices.Index(reps, lead)+1)%len(reps)]
	c, err := client.New(via.url, token, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	req := labPlan(t, l, "urgent-openssl.yaml", "")
	p, err := plan.Parse(req.PlanFile, []byte(req.Plan))
	if err != nil {
		t.Fatal(err)
	}
	ro, err := c.StartRollout(t.Context(), req)
	if err != nil {
		t.Fatalf("start the rollout through %s, which does not lead: %v", via.name, err)
	}

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("kill moments drawn with seed %d", seed)
	const minKills, maxKills = 5, 7
	var takeovers []time.Duration
	landed := 0
	for ended := false; !ended && len(takeovers) < maxKills; {
		time.Sleep(time.Duration(1000+rng.IntN(6000)) * time.Millisecond)
		if lead, err = awaitLeader(reps, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		lead.killNow()
		type next struct {
			r   *replica
			err error
			at  time.Time
		}
		took := make(chan next, 1)
		go func() {
			r, err := awaitLeader(reps, 30*time.Second)
			took <- next{r, err, time.Now()}
		}()
		var steps []string
		steps, ended = whereKilled(t, dsn, ro.ID, p)
		if !ended {
			landed++
		}
		// Its supervisor starts it again at once.
		lead.restart()
		n := <-took
		if n.err != nil {
			t.Fatalf("after kill %d: %v", len(takeovers)+1, n.err)
		}
		takeovers = append(takeovers, n.at.Sub(killed))
		t.Logf("kill %d of %s, the leader, in: %s; %s leads %s later", len(takeovers), lead.name, strings.Join(steps, ", "),
			n.r.name, n.at.Sub(killed).Round(time.Millisecond))
	}
	if landed < minKills {
		t.Fatalf("the rollout ended after %d kills of its leader; the test wants at least %d", landed, minKills)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if ro, err = rolloutOn(t, reps, token, ro.ID); err == nil && ro.Ended != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rollout did not end within 3 minutes of the last kill: %+v, %v", ro, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	total, failed := tr.End()
	ok, bad, failures := pages.end()
	t.Logf("%d kills of the leader, %d during the rollout; takeover p50 %s, max %s (%v)", len(takeovers), landed,
		percentile(takeovers, 50).Round(time.Millisecond), percentile(takeovers, 100).Round(time.Millisecond), takeovers)
	t.Logf("the rollout took %s; customer requests: %d, failed: %d; status page requests: %d, not 200: %d; test ran %s",
		ro.Ended.Sub(ro.Created).Round(time.Second), total, failed, ok+bad, bad, time.Since(began).Round(time.Second))

	if ro.State != "done" {
		t.Errorf("the rollout is %s: %s", ro.State, ro.Reason)
	}
	checkPatchedOnce(t, l, ro, before, bootsBefore, boots)
	if len(ro.Hosts) != 20 {
		t.Errorf("the rollout has %d hosts, want 20", len(ro.Hosts))
	}
	if failed != 0 || total == 0 {
		t.Errorf("%d of %d customer requests failed", failed, total)
	}
	if bad != 0 || ok == 0 {
		t.Errorf("%d of %d requests to the status pages of live replicas did not answer 200: %s", bad, ok+bad, strings.Join(failures, "; "))
	}
	checkMailedOnce(t, dsn, sink, "alice@example.net")
	if t.Failed() {
		for _, r := range reps {
			t.Logf("log of %s:\n%s", r.name, r.logTail())
		}
	}
}

// subscribeByMail subscribes address to the status page at public to
// every component, and confirms it by the link mailed to it.
func subscribeByMail(t *testing.T, public string, sink *smtptest.Sink, address string) {
	t.Helper()
	resp, err := http.Post(public+"/subscriptions", "application/json", strings.NewReader(`{"kind":"email","address":"`+address+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("subscribe %s: %s", address, resp.Status)
	}
	waitFor(t, 30*time.Second, "the confirmation mail", func() bool { return len(sink.Messages(address)) == 1 })
	link := regexp.MustCompile(regexp.QuoteMeta(public) + `/subscriptions/confirm\?token=[a-z0-9]+`).FindString(smtptest.Body(t, sink.Messages(address)[0]))
	if link == "" {
		t.Fatalf("no confirmation link in:\n%s", sink.Messages(address)[0])
	}
	if resp, err = http.Get(link); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm %s: %s", address, resp.Status)
	}
}

// checkMailedOnce checks that every notification the queue holds for the
// subscriber at address was sent, and reached the sink exactly once: none
// lost, none twice, however many replicas were killed while sending.
func checkMailedOnce(t *testing.T, dsn string, sink *smtptest.Sink, address string) {
	t.Helper()
	db, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var queued []fleet.Notification
	// A notification claimed by a replica killed while sending goes again
	// once its claim's lease (2 minutes) ran out.
	waitFor(t, 3*time.Minute, "every notification sent", func() bool {
		sub, err := db.Subscriber(t.Context(), 1)
		if err != nil || sub.Address != address {
			t.Fatalf("subscriber 1 is %+v, %v; want %s", sub, err, address)
		}
		if queued, err = db.Notifications(t.Context(), sub.ID); err != nil {
			t.Fatal(err)
		}
		return !slices.ContainsFunc(queued, func(n fleet.Notification) bool { return n.State != fleet.NotificationSent })
	})
	received := map[string]int{}
	for _, m := range sink.Messages(address)[1:] { // the first is the confirmation
		received[regexp.MustCompile(`(?mi)^Message-ID: <?(notification-\d+)`).FindStringSubmatch(m)[1]]++
	}
	for _, n := range queued {
		id := fmt.Sprintf("notification-%d", n.ID)
		if received[id] != 1 {
			t.Errorf("%s (%s) reached the subscriber %d times, want once", id, n.Subject, received[id])
		}
		delete(received, id)
	}
	for id, c := range received {
		t.Errorf("%s reached the subscriber %d times, and the queue does not hold it", id, c)
	}
	t.Logf("%d notifications to the subscriber, each mailed once", len(queued))
	if len(queued) == 0 {
		t.Error("the rollout told the subscriber nothing: the test proves nothing of the queue")
	}
}

// commandLog is what the lab's hosts ran for each replica: sshd runs each
// replica's commands through a forced command (authorized_keys command=)
// that writes the replica's name and the command to a file per host.
type commandLog string

// byReplica lists the commands each replica ran, as "host: command".
func (c commandLog) byReplica(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	files, err := filepath.Glob(filepath.Join(string(c), "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(data)) {
			name, cmd, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
			out[name] = append(out[name], filepath.Base(f)+": "+cmd)
		}
	}
	return out
}

// countOf counts the commands in cmds that contain part.
func countOf(cmds []string, part string) int {
	n := 0
	for _, c := range cmds {
		if strings.Contains(c, part) {
			n++
		}
	}
	return n
}

// storeState is what the store holds of a rollout: its row, its host runs
// and every event.
type storeState struct {
	rollout string
	events  []string
}

func readStoreState(t *testing.T, dsn, id string) storeState {
	t.Helper()
	db, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ro, err := db.Rollout(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	ro.Plan = nil
	var st storeState
	raw, err := json.Marshal(ro)
	if err != nil {
		t.Fatal(err)
	}
	st.rollout = string(raw)
	evs, err := db.Events(t.Context(), store.EventFilter{Limit: store.MaxEventLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		st.events = append(st.events, fmt.Sprintf("%d %s %s: %s", e.ID, e.Kind, e.Subject, e.Message))
	}
	return st
}

// A leader frozen (SIGSTOP) for longer than its lease, while another
// replica takes over, wakes to find it does not lead: it runs no command
// on the hosts, writes nothing, and exits for its supervisor to start it
// again. Its hosts sit in a step that waits on a gate of their own: the
// step's command waits for a file named after the replica that runs it,
// and the frozen leader's gate opens while it sleeps, so that it wakes
// with its step done and its next step's command to send, while the new
// leader's copy of the step still waits and the new leader stays quiet.
func TestFrozenLeaderStepsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds illico and runs three replicas on PostgreSQL over a lab, one of them frozen")
	}
	began := time.Now()
	bin := buildIllico(t)
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: time.Second, RebootMax: 2 * time.Second})
	dsn := pgtest.Start(t)
	dir := t.TempDir()
	gates, logs := filepath.Join(dir, "gates"), commandLog(filepath.Join(dir, "commands"))
	for _, d := range []string{gates, string(logs)} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// However the test ends, the hosts leave their step.
	t.Cleanup(func() {
		for _, name := range []string{"r0", "r1", "r2"} {
			os.WriteFile(filepath.Join(gates, name), nil, 0o600)
		}
	})
	wrapper := filepath.Join(dir, "as-replica")
	script := `#!/bin/sh
# sshd runs this for every command of replica $1 (authorized_keys command=).
printf '%s\t%s\n' "$1" "$(printf '%s' "$SSH_ORIGINAL_COMMAND" | tr '\n' ' ')" >>` + quoteSh(string(logs)) + `/"$ILLICO_LAB_HOST"
export ILLICO_REPLICA="$1"
exec "${SHELL:-/bin/sh}" -c "$SSH_ORIGINAL_COMMAND"
`
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// Each replica logs in with a key of its own, whose line in the lab's
	// authorized_keys forces the wrapper with the replica's name.
	base, err := inventory.Load(l.Info().Files.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	authorized, err := os.OpenFile(filepath.Join(l.Info().Dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var inventories []string
	for i := range 3 {
		name := fmt.Sprintf("r%d", i)
		key := filepath.Join(dir, name+".key")
		pub, err := openssh.GenerateHostKey(key)
		if err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("command=\"%s %s\",no-pty,no-port-forwarding %s", wrapper, name, ssh.MarshalAuthorizedKey(pub))
		if _, err := authorized.WriteString(line); err != nil {
			t.Fatal(err)
		}
		for _, h := range base.Hosts {
			h.SSH.IdentityFiles = []string{key}
		}
		data, err := inventory.Encode(base, dir)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+"-inventory.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		inventories = append(inventories, path)
	}
	if err := authorized.Close(); err != nil {
		t.Fatal(err)
	}

	reps, token := startReplicas(t, bin, dsn, inventories, nil)
	old, err := awaitLeader(reps, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the frozen replica wakes before it is stopped.
	t.Cleanup(func() { _ = old.cmd.Process.Signal(syscall.SIGCONT) })
	via := reps[(slices.Index(reps, old)+1)%len(reps)]
	c, err := client.New(via.url, token, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	gate := `until [ -e ` + filepath.Join(gates, `"$ILLICO_REPLICA"`) + ` ]; do sleep 0.1; done`
	ro, err := c.StartRollout(t.Context(), api.StartRollout{PlanFile: "gated.yaml", Plan: `name: Gated per replica
steps:
  - drain
  - run: '` + gate + `'
    timeout: 5m
  - run: "true"
  - undrain
strategy:
  max_parallel: 2
`})
	if err != nil {
		t.Fatalf("start the rollout through %s: %v", via.name, err)
	}

	// Two hosts, one of each pair, sit in the gate, as the leader runs it.
	inGate := func(name string) bool {
		return countOf(logs.byReplica(t)[name], "until [ -e") >= 2
	}
	waitFor(t, 30*time.Second, "the leader's two hosts in their gate", func() bool { return inGate(old.name) })

	old.signal(syscall.SIGSTOP)
	frozen := time.Now()
	if err := os.WriteFile(filepath.Join(gates, old.name), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var others []*replica
	for _, r := range reps {
		if r != old {
			others = append(others, r)
		}
	}
	next, err := awaitLeader(others, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tookOver := time.Since(frozen)
	// The new leader resumes the hosts in their step: it runs the gate
	// again, its own, which stays shut.
	waitFor(t, 30*time.Second, "the new leader's two hosts in their gate", func() bool { return inGate(next.name) })
	if wait := 9*time.Second - time.Since(frozen); wait > 0 {
		time.Sleep(wait)
	}
	cmdsBefore, stateBefore := logs.byReplica(t), readStoreState(t, dsn, ro.ID)
	old.signal(syscall.SIGCONT)
	thawed := time.Now()
	code := old.wait(30 * time.Second)
	exited := time.Since(thawed)
	// Once its process has ended, whatever it did is there to be read.
	cmdsAfter, stateAfter := logs.byReplica(t), readStoreState(t, dsn, ro.ID)
	t.Logf("%s froze %s; %s led %s after the freeze; %s woke after %s and exited %d %s later",
		old.name, frozen.Format("15:04:05.000"), next.name, tookOver.Round(time.Millisecond), old.name, thawed.Sub(frozen).Round(time.Millisecond), code, exited.Round(time.Millisecond))

	switch {
	case code == -1:
		t.Errorf("%s still runs 30 s after it woke", old.name)
	case code == 0:
		t.Errorf("%s exited 0 after it lost the leadership; its supervisor must see a failure", old.name)
	}
	if log := old.logTail(); !strings.Contains(log, "lost the leadership") {
		t.Errorf("%s's log does not say it lost the leadership:\n%s", old.name, log)
	}
	if woke := cmdsAfter[old.name][len(cmdsBefore[old.name]):]; len(woke) != 0 {
		t.Errorf("%s sent %d commands after it woke: %q", old.name, len(woke), woke)
	}
	// The new leader's probes read the boot id every 10 s; they write
	// nothing of the rollout's.
	if woke := slices.DeleteFunc(cmdsAfter[next.name][len(cmdsBefore[next.name]):], func(c string) bool {
		return strings.HasSuffix(c, "/lab-boot-id")
	}); len(woke) != 0 {
		t.Errorf("the new leader %s ran rollout commands while the old one woke: the test cannot tell who wrote what: %q", next.name, woke)
	}
	if stateAfter.rollout != stateBefore.rollout {
		t.Errorf("the rollout changed while %s woke:\nbefore %s\nafter  %s", old.name, stateBefore.rollout, stateAfter.rollout)
	}
	if !slices.Equal(stateAfter.events, stateBefore.events) {
		t.Errorf("events were written while %s woke: %q", old.name, stateAfter.events[min(len(stateBefore.events), len(stateAfter.events)):])
	}

	// The new leader carries the rollout to its end.
	for _, r := range reps {
		os.WriteFile(filepath.Join(gates, r.name), nil, 0o600)
	}
	c, err = client.New(next.url, token, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var got api.Rollout
	waitFor(t, time.Minute, "the rollout's end", func() bool {
		got, err = c.Rollout(t.Context(), ro.ID)
		return err == nil && got.Ended != nil
	})
	if got.State != "done" {
		t.Errorf("the rollout is %s: %s", got.State, got.Reason)
	}
	for _, h := range got.Hosts {
		if h.State != "done" {
			t.Errorf("%s is %s: %s", h.Host, h.State, h.Error)
		}
	}
	cmds := logs.byReplica(t)
	for _, r := range reps {
		if r != old && r != next && len(cmds[r.name]) != 0 {
			t.Errorf("%s never led, and ran %q", r.name, cmds[r.name])
		}
	}
	counts := map[string]int{}
	for name, cs := range cmds {
		counts[name] = len(cs)
	}
	t.Logf("commands run by each replica: %v; test ran %s", counts, time.Since(began).Round(time.Second))
	if t.Failed() {
		for _, r := range reps {
			t.Logf("log of %s:\n%s", r.name, r.logTail())
		}
	}
}

// waitFor polls cond every 100 ms until it holds, failing the test after
// within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// quoteSh makes s one word of a shell command.
func quoteSh(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Package pgtest gives tests a real PostgreSQL database: the server named by
// $ILLICO_TEST_POSTGRES when it is set, otherwise a throwaway cluster started
// from the PostgreSQL binaries of this machine and removed when the test ends.
// Every database it hands out is fresh, so tests never see each other's rows.
//
// Without PostgreSQL binaries a test is skipped, with the reason, except in CI
// ($CI set), where it fails: the PostgreSQL half of the store must never
// silently stop running.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// EnvDSN names the variable that points the tests at an existing server. Its
// user must be allowed to create and drop databases.
const EnvDSN = "ILLICO_TEST_POSTGRES"

// Cluster is a PostgreSQL server that tests may create databases in.
type Cluster struct {
	// admin is a URL to a database of the server, used to create and drop
	// the tests' databases.
	admin string
}

// Start returns the URL of a fresh, empty database on a server started for
// this test (or on $ILLICO_TEST_POSTGRES); both go away when the test ends.
func Start(t testing.TB) string {
	t.Helper()
	return StartCluster(t).NewDatabase(t)
}

// StartCluster returns a server for this test, to create many databases in
// without paying for a cluster each time.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
			t.Fatalf("$%s must be a postgres:// URL", EnvDSN)
		}
		return &Cluster{admin: dsn}
	}
	bin, err := findBinaries()
	if err != nil {
		unavailable(t, err.Error())
	}
	c, err := startLocal(t, bin)
	if err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	return c
}

// unavailable skips the test, or fails it in CI.
func unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL is needed in CI: %s", reason)
	}
	t.Skipf("skipping: %s (install PostgreSQL or set $%s)", reason, EnvDSN)
}

// findBinaries returns the directory holding initdb, pg_ctl and postgres.
func findBinaries() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	dirs = append(dirs, "/usr/local/bin")
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest first; the glob sorts "9" after "15", so sort by number.
	slices.SortFunc(versions, func(a, b string) int { return pgVersion(b) - pgVersion(a) })
	dirs = append(dirs, versions...)
	for _, d := range dirs {
		if executable(filepath.Join(d, "initdb")) && executable(filepath.Join(d, "pg_ctl")) && executable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL binaries (initdb, pg_ctl, postgres) in PATH, /usr/local/bin or /usr/lib/postgresql/*/bin")
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// startLocal runs initdb and pg_ctl start in a new directory. PostgreSQL
// refuses to run as root, so as root it runs as the user postgres, which must
// then own the directory.
func startLocal(t testing.TB, bin string) (*Cluster, error) {
	t.Helper()
	// Not t.TempDir: its parent is private to root, and postgres must reach it.
	dir, err := os.MkdirTemp("", "illico-pg-")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable(t, "running as root and there is no user postgres to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	run := func(timeout time.Duration, name string, args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		argv := append(slices.Clone(asUser), append([]string{filepath.Join(bin, name)}, args...)...)
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
		// pg_ctl leaves the server running; never wait for its output pipes.
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, out)
		}
		return nil
	}
	if err := run(2*time.Minute, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		return nil, err
	}
	// The port is picked free just before start; another process may take it
	// in between, so a failed start is retried on a new port a few times.
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		opts := strings.Join([]string{
			"-c listen_addresses=127.0.0.1",
			"-c port=" + strconv.Itoa(port),
			"-c unix_socket_directories=" + dir,
			// Durability is worthless for a database that dies with the test.
			"-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
		}, " ")
		lastErr = run(time.Minute, "pg_ctl", "start", "-w", "-t", "50", "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", opts)
		if lastErr == nil {
			t.Cleanup(func() {
				if err := run(time.Minute, "pg_ctl", "stop", "-m", "immediate", "-D", data); err != nil {
					t.Errorf("stop PostgreSQL: %v", err)
				}
			})
			return &Cluster{admin: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}, nil
		}
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		lastErr = fmt.Errorf("%w\nserver log:\n%s", lastErr, log)
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// NewDatabase creates an empty database, dropped when the test ends, and
// returns its URL.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "illico_test_" + hex.EncodeToString(b)
	admin, err := c.open()
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := c.open()
		if err != nil {
			t.Errorf("connect to PostgreSQL: %v", err)
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE: a store the test forgot to close must not keep it alive.
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(c.admin)
	if err != nil {
		t.Fatalf("the server's URL does not parse") // the error would quote a password
	}
	u.Path = "/" + name
	return u.String()
}

func (c *Cluster) open() (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(c.admin)
	if err != nil {
		return nil, fmt.Errorf("the server's URL does not parse")
	}
	return stdlib.OpenDB(*cfg), nil
}

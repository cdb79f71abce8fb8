// Command statusload loads one page of a status page over keep-alive HTTP/1.1
// for a fixed time, as scripts/bench-statuspage needs: N clients, each on
// its own connection asking for gzip, some of them revalidating with
// If-None-Match as browsers and CDNs do. It prints one line of key=value
// figures: requests per second, latency percentiles, 200s, 304s and errors.
//
//	statusload -url http://127.0.0.1:8081/api/v2/summary.json -clients 64 -duration 15s
//
// Its client speaks just enough HTTP/1.1 to read what the page sends
// (Content-Length bodies), so that on a machine it shares with the server it
// takes far less of the CPU than net/http's client would.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "statusload:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "statusload:", err)
		os.Exit(1)
	}
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("statusload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.url, "url", "", "the page to load: http://HOST:PORT/PATH (loopback only)")
	fs.IntVar(&o.clients, "clients", 64, "concurrent clients, one keep-alive connection each")
	fs.DurationVar(&o.duration, "duration", 15e9, "how long to load")
	fs.Float64Var(&o.revalidate, "revalidate", 0.25, "share of the clients that send If-None-Match with the last ETag they saw")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if err := o.check(); err != nil {
		return usageError{err.Error()}
	}
	r, err := load(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, r.line())
	if r.firstErr != "" {
		fmt.Fprintf(stderr, "statusload: %d errors, the first: %s\n", r.errors, r.firstErr)
	}
	return nil
}

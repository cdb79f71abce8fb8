package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/illico-dev/illico/internal/api"
)

const accountSynopsis = "account add NAME [--role admin|operator|reader] [--password-stdin] | account list [--json] | " +
	"account passwd NAME [--password-stdin] | account disable NAME | account enable NAME | account remove NAME"

// runAccount is `illico account`: the dashboard's accounts, managed with
// an admin token.
func runAccount(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: illico %s", accountSynopsis)
	}
	switch args[0] {
	case "add":
		return runAccountAdd(ctx, e, args[1:])
	case "list":
		return runAccountList(ctx, e, args[1:])
	case "passwd":
		return runAccountPasswd(ctx, e, args[1:])
	case "disable", "enable":
		return runAccountDisable(ctx, e, args[0], args[1:])
	case "remove":
		return runAccountRemove(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: illico %s\n", accountSynopsis)
		return nil
	}
	return usageErrorf("unknown account command %q (expected add, list, passwd, disable, enable or remove)", args[0])
}

func runAccountAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "account add", "account add NAME [--role admin|operator|reader] [--password-stdin]")
	role := fs.String("role", "reader", "what the account may do: `role` admin, operator or reader")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin (for scripts)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("usage: illico account add NAME [--role admin|operator|reader] [--password-stdin]")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	password, err := readNewPassword(e, rest[0], *fromStdin)
	if err != nil {
		return err
	}
	a, err := c.CreateAccount(ctx, rest[0], *role, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "account %s (role %s) created; it logs in at /dashboard/\n", a.Name, a.Role)
	return nil
}

func runAccountList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "account list", "account list [--json]")
	asJSON := fs.Bool("json", false, "print the accounts as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("illico account list takes no arguments, got %q", rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	accounts, err := c.Accounts(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, api.Accounts{Accounts: accounts})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tLAST LOGIN\tSTATE")
	for _, a := range accounts {
		state := "active"
		if a.Disabled != nil {
			state = "disabled " + apiTime(a.Disabled)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Role, apiTime(&a.Created), apiTime(a.LastLogin), state)
	}
	return tw.Flush()
}

func runAccountPasswd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "account passwd", "account passwd NAME [--password-stdin]")
	fromStdin := fs.Bool("password-stdin", false, "read the new password from the first line of stdin (for scripts)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("usage: illico account passwd NAME [--password-stdin]")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	password, err := readNewPassword(e, rest[0], *fromStdin)
	if err != nil {
		return err
	}
	a, err := c.SetAccountPassword(ctx, rest[0], password)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "password of account %s changed; its dashboard sessions have ended\n", a.Name)
	return nil
}

func runAccountDisable(ctx context.Context, e *env, order string, args []string) error {
	fs := newFlags(e, "account "+order, "account "+order+" NAME")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("usage: illico account %s NAME", order)
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	a, err := c.SetAccountDisabled(ctx, rest[0], order == "disable")
	if err != nil {
		return err
	}
	if order == "disable" {
		fmt.Fprintf(e.stdout, "account %s disabled; its dashboard sessions have ended\n", a.Name)
		return nil
	}
	fmt.Fprintf(e.stdout, "account %s enabled\n", a.Name)
	return nil
}

func runAccountRemove(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "account remove", "account remove NAME")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("usage: illico account remove NAME")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	a, err := c.RemoveAccount(ctx, rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "account %s removed; its dashboard sessions have ended\n", a.Name)
	return nil
}

// maxPasswordLine bounds a password read from stdin.
const maxPasswordLine = 4096

// readNewPassword reads a new password for the account name: the first
// line of stdin with --password-stdin, else twice from the terminal
// without echo. The daemon says what a password must be.
func readNewPassword(e *env, name string, fromStdin bool) (string, error) {
	if fromStdin {
		return readLine(e.stdin)
	}
	fd, ok := terminal(e.stdin)
	if !ok {
		return "", usageErrorf("stdin is not a terminal to ask for the password on: give it on stdin with --password-stdin")
	}
	fmt.Fprintf(e.stderr, "New password for %s: ", name)
	first, err := readHidden(fd)
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(e.stderr, "The same again: ")
	second, err := readHidden(fd)
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", err
	}
	if first != second {
		return "", usageErrorf("the two passwords differ; nothing was changed")
	}
	return first, nil
}

// readLine reads the first line of r, without its line ending.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordLine)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageErrorf("no password on stdin (--password-stdin reads its first line)")
	}
	return line, nil
}

// terminal returns the file descriptor of r when r is a terminal.
func terminal(r io.Reader) (int, bool) {
	f, ok := r.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, isTTY(fd)
}

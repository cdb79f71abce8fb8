package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/client"
	"github.com/illico-dev/illico/internal/fleet"
)

// defaultServer is where the daemon is when ILLICO_SERVER is not set: where
// `illico serve` listens by default.
const defaultServer = "http://127.0.0.1:8080"

// apiClient is a client for the daemon named by ILLICO_SERVER, with the
// token in ILLICO_TOKEN.
func apiClient(e *env) (*client.Client, error) {
	server := e.getenv(client.EnvServer)
	if server == "" {
		server = defaultServer
	}
	token := e.getenv(client.EnvToken)
	if token == "" {
		return nil, fleet.Errorf(fleet.KindUnauthorized, "no token: set %s (the daemon shows the first admin token on its first start)", client.EnvToken)
	}
	return client.New(server, token, nil)
}

const tokenSynopsis = "token create NAME [--role admin|operator|reader] | token list [--json] | token revoke ID"

// runToken is `illico token`: create, list and revoke API tokens.
func runToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: illico %s", tokenSynopsis)
	}
	switch args[0] {
	case "create":
		return runTokenCreate(ctx, e, args[1:])
	case "list":
		return runTokenList(ctx, e, args[1:])
	case "revoke":
		return runTokenRevoke(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: illico %s\n", tokenSynopsis)
		return nil
	}
	return usageErrorf("unknown token command %q (expected create, list or revoke)", args[0])
}

func runTokenCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token create", "token create NAME [--role admin|operator|reader] [--json]")
	role := fs.String("role", "reader", "what the token may do: `role` admin, operator or reader")
	asJSON := fs.Bool("json", false, "print the token and its secret as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("usage: illico token create NAME [--role admin|operator|reader]")
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	created, err := c.CreateToken(ctx, rest[0], *role)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, created)
	}
	fmt.Fprintf(e.stdout, "%s\n", created.Secret)
	fmt.Fprintf(e.stderr, "token %d (%s, role %s) created; the secret above is shown only this once\n",
		created.Token.ID, created.Token.Name, created.Token.Role)
	return nil
}

func runTokenList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token list", "token list [--json]")
	asJSON := fs.Bool("json", false, "print the tokens as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("illico token list takes no arguments, got %q", rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	tokens, err := c.Tokens(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printAPIJSON(e, api.Tokens{Tokens: tokens})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tLAST USED\tSTATE")
	for _, t := range tokens {
		state := "active"
		if t.Revoked != nil {
			state = "revoked " + apiTime(t.Revoked)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, apiTime(&t.Created), apiTime(t.LastUsed), state)
	}
	return tw.Flush()
}

func apiTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func runTokenRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "token revoke", "token revoke ID")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("usage: illico token revoke ID")
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id < 1 {
		return usageErrorf("token id %q is not a positive number (see illico token list)", rest[0])
	}
	c, err := apiClient(e)
	if err != nil {
		return err
	}
	t, err := c.RevokeToken(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "token %d (%s) revoked\n", t.ID, t.Name)
	return nil
}

func printAPIJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

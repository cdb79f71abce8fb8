package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/server"
)

// TestConfigDocExample keeps the example of docs/config.md, the reference
// that illico serve --help points at, a config the daemon takes.
func TestConfigDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/config.md has no ```yaml example")
	}
	file := filepath.Join(t.TempDir(), "illico.yaml")
	c, err := server.ParseConfig(file, []byte(example))
	if err != nil {
		t.Fatalf("the example of docs/config.md is refused:\n%v", err)
	}
	if c.Listen != "127.0.0.1:8080" || c.Inventory != filepath.Join(filepath.Dir(file), "inventory.yaml") ||
		c.SMTP.Address != "smtp.example.net:587" || c.StatusPage.URL != "https://status.example.net" || c.Log.Level != "info" {
		t.Errorf("the example is not read as docs/config.md describes it: %+v", c)
	}
	if c.Subscribers() == nil {
		t.Error("the example names an SMTP server and a status page URL, yet takes no subscribers")
	}
}

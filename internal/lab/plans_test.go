package lab

import (
	"testing"

	"github.com/illico-dev/illico/internal/plan"
)

// The lab's ready plans must stay valid plans; the rollout tests run them.
func TestPlansParse(t *testing.T) {
	ents, err := planFS.ReadDir("plans")
	if err != nil || len(ents) < 2 {
		t.Fatalf("plans: %v %v", ents, err)
	}
	for _, e := range ents {
		text, _ := planFS.ReadFile("plans/" + e.Name())
		if _, err := plan.Parse(e.Name(), text); err != nil {
			t.Errorf("%s: %v", e.Name(), err)
		}
	}
}

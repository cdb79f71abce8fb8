package labels

import "testing"

func TestSet(t *testing.T) {
	a := Set{"host": "web-01", "datacenter": "rbx-2"}
	b := Set{"datacenter": "rbx-2"}
	b["host"] = "web-01"
	if a.Fingerprint() != b.Fingerprint() {
		t.Errorf("equal sets have fingerprints %q and %q", a.Fingerprint(), b.Fingerprint())
	}
	for _, other := range []Set{{"host": "web-01"}, {"host": "web-01", "datacenter": "rbx-1"}, {"hostdatacenter": "web-01rbx-2"}} {
		if other.Fingerprint() == a.Fingerprint() {
			t.Errorf("%s has the fingerprint of %s", other, a)
		}
	}
	if got, want := a.String(), `{datacenter="rbx-2", host="web-01"}`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if got, want := a.Subset([]string{"host", "site"}).String(), `{host="web-01", site=""}`; got != want {
		t.Errorf("Subset = %s, want %s", got, want)
	}
}

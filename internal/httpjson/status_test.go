package httpjson

import (
	"net/http"
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestKinds(t *testing.T) {
	for _, k := range []fleet.Kind{
		fleet.KindInternal, fleet.KindInvalid, fleet.KindNotFound, fleet.KindConflict,
		fleet.KindUnauthorized, fleet.KindForbidden, fleet.KindUnavailable,
		fleet.KindTooLarge, fleet.KindMethodNotAllowed,
	} {
		t.Run(k.String(), func(t *testing.T) {
			if got := KindOfStatus(Status(k)); got != k {
				t.Errorf("status %d maps back to %v", Status(k), got)
			}
			if got := ParseKind(k.String()); got != k {
				t.Errorf("name %q parses as %v", k.String(), got)
			}
		})
	}
}

func TestKindOfStatus(t *testing.T) {
	for _, tc := range []struct {
		code int
		want fleet.Kind
	}{
		{http.StatusRequestEntityTooLarge, fleet.KindTooLarge},
		{http.StatusMethodNotAllowed, fleet.KindMethodNotAllowed},
		{http.StatusUnsupportedMediaType, fleet.KindInvalid},
		{http.StatusBadGateway, fleet.KindUnavailable},
		{http.StatusGatewayTimeout, fleet.KindUnavailable},
		{http.StatusNotImplemented, fleet.KindInternal},
	} {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			if got := KindOfStatus(tc.code); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if got := ParseKind("no such kind"); got != fleet.KindInternal {
		t.Errorf("an unknown kind parses as %v", got)
	}
}

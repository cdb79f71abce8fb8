package httpjson

import (
	"net/http"

	"github.com/illico-dev/illico/internal/fleet"
)

// statuses is the one table from error kinds to HTTP status codes, for the
// daemon's API and the public status site alike.
var statuses = []struct {
	kind   fleet.Kind
	status int
}{
	{fleet.KindInvalid, http.StatusBadRequest},
	{fleet.KindUnauthorized, http.StatusUnauthorized},
	{fleet.KindForbidden, http.StatusForbidden},
	{fleet.KindNotFound, http.StatusNotFound},
	{fleet.KindConflict, http.StatusConflict},
	{fleet.KindUnavailable, http.StatusServiceUnavailable},
	{fleet.KindInternal, http.StatusInternalServerError},
	{fleet.KindTooLarge, http.StatusRequestEntityTooLarge},
	{fleet.KindMethodNotAllowed, http.StatusMethodNotAllowed},
}

// Status is the HTTP status code of an error of kind k.
func Status(k fleet.Kind) int {
	for _, s := range statuses {
		if s.kind == k {
			return s.status
		}
	}
	return http.StatusInternalServerError
}

// KindOfStatus is the error kind of an HTTP status code, for answers that
// carry no error body (a proxy's 502, say).
func KindOfStatus(code int) fleet.Kind {
	for _, s := range statuses {
		if s.status == code {
			return s.kind
		}
	}
	switch {
	case code >= 400 && code < 500:
		return fleet.KindInvalid
	case code == http.StatusBadGateway, code == http.StatusGatewayTimeout:
		return fleet.KindUnavailable
	}
	return fleet.KindInternal
}

// ParseKind reads the name of a kind, as fleet.Kind.String writes it; an
// unknown name is KindInternal.
func ParseKind(name string) fleet.Kind {
	for _, s := range statuses {
		if s.kind.String() == name {
			return s.kind
		}
	}
	return fleet.KindInternal
}

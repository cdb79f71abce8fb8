package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/httpjson"
	"github.com/illico-dev/illico/internal/yamlx"
)

// maxBody bounds request bodies; the API takes small JSON documents,
// except from Alertmanager (maxAlertmanagerBody).
const maxBody = 1 << 20

// maxAlertmanagerBody bounds a notification of Alertmanager's webhook,
// which lists every alert of its group: 2,000 alerts with the labels and
// annotations of a Kubernetes cluster's take 1.9 MiB
// (TestAlertmanagerBodyBound), and the bound leaves room for twice as
// many with labels twice as long.
const maxAlertmanagerBody = 8 << 20

// writeError answers with err as an api.ErrorBody, its status from the one
// table in package api. An internal error's details go to the log, and the
// client gets the request id to find them.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := fleet.KindOf(err)
	body := api.Error{Kind: kind.String(), Message: err.Error()}
	if kind == fleet.KindInternal {
		id := requestID(r.Context())
		s.log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		body.Message = fmt.Sprintf("internal error, see the daemon log (request id %s)", id)
	}
	var ps yamlx.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			body.Problems = append(body.Problems, p.String())
		}
	}
	if kind == fleet.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="illico"`)
	}
	httpjson.Write(w, httpjson.Status(kind), api.ErrorBody{Error: body})
}

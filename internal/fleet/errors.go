package fleet

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the edges: the HTTP server maps kinds to status
// codes in one table, the CLI maps them to exit codes in one switch.
type Kind int

const (
	KindInternal         Kind = iota // a bug or an unexpected failure
	KindInvalid                      // the input is wrong; the message says where
	KindNotFound                     // the named thing does not exist
	KindConflict                     // the thing exists, or its state forbids the change
	KindUnauthorized                 // no valid credentials
	KindForbidden                    // valid credentials, not allowed
	KindUnavailable                  // a dependency cannot be reached now; try again
	KindTooLarge                     // the input is over its size limit; the message says the limit
	KindMethodNotAllowed             // the endpoint exists, not with this method
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindUnauthorized:
		return "unauthorized"
	case KindForbidden:
		return "forbidden"
	case KindUnavailable:
		return "unavailable"
	case KindTooLarge:
		return "too_large"
	case KindMethodNotAllowed:
		return "method_not_allowed"
	}
	return "internal"
}

// Error is an error with a kind and a message fit for the user.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's chain, KindInternal
// when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

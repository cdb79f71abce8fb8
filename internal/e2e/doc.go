// Package e2e holds illico's end-to-end tests that need the whole product at
// once: a lab fleet, the daemon with its store, and a real browser reading
// the public status page, as a customer would.
package e2e

// Package layers has no code: its test holds the rules by which illico's
// imports flow one way, fleet at the bottom, the adapters above it, the
// engines above those, and the daemon and the command line on top. When a
// change breaks a rule, change the design, not the rule.
package layers

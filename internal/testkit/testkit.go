// Package testkit is what every package's tests share: a settable clock,
// a wait with a deadline, a buffer goroutines may log into, and a store
// opened in a temporary directory that is checked and closed when the test
// ends. Tests only: nothing in the service imports it (testkit_test.go
// guards that).
//
// It imports nothing of cardflow, so that the tests inside any package,
// storage's and processor's included, can use it without an import cycle.
package testkit

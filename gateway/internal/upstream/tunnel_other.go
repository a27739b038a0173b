//go:build !linux

package upstream

import "syscall"

// waitReadable is Linux-only; elsewhere the relay keeps a buffer per direction.
func waitReadable(syscall.RawConn) func() error { return nil }

package upstream

import "syscall"

// waitReadable blocks on the runtime's poller until the socket has something to read. The
// poller is edge-triggered and forgets an earlier edge when a wait starts, so each wait
// first peeks (MSG_PEEK, without consuming) to see whether bytes are already there.
func waitReadable(raw syscall.RawConn) func() error {
	var peek [1]byte
	return func() error {
		return raw.Read(func(fd uintptr) bool {
			for {
				_, _, err := syscall.Recvfrom(int(fd), peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
				switch err {
				case syscall.EINTR:
					continue
				case syscall.EAGAIN:
					return false
				default:
					// Bytes, EOF or an error: the next Read reports which.
					return true
				}
			}
		})
	}
}

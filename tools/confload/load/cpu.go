package load

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; it is 100 on every Linux
// architecture Go supports (the kernel's HZ may differ, USER_HZ does not).
const clockTicks = 100

// ProcessCPU returns the user+system CPU time the process pid has used so far.
func ProcessCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoProcess, err)
	}
	// The command name may hold spaces and parentheses; the fields follow the last ')'.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: malformed /proc/%d/stat", ErrNoProcess, pid)
	}
	f := strings.Fields(s[i+1:])
	// After the name: state(0) ppid … utime is field 14 of stat, index 11 here; stime 12.
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: short /proc/%d/stat", ErrNoProcess, pid)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: malformed /proc/%d/stat", ErrNoProcess, pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// PidListening finds the process that has a socket bound to addr ("127.0.0.1:7882"), UDP
// or TCP: the way to name a server that this tool did not start.
func PidListening(addr string) (int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return 0, err
	}
	ip := net.ParseIP(host).To4()
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/udp", "/proc/net/tcp"} {
		if err := socketInodes(table, ip, uint16(port), inodes); err != nil {
			return 0, err
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("%w: nothing bound to %s", ErrNoProcess, addr)
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			return strconv.Atoi(strings.Split(fd, "/")[2])
		}
	}
	return 0, fmt.Errorf("%w: no process owns the socket on %s", ErrNoProcess, addr)
}

// socketInodes adds the inodes of the sockets in a /proc/net table bound to ip:port (or to
// any address on port when ip is nil or the socket listens on 0.0.0.0).
func socketInodes(table string, ip net.IP, port uint16, out map[string]bool) error {
	f, err := os.Open(table)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 {
			continue
		}
		h, p, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		lp, err := strconv.ParseUint(p, 16, 16)
		if err != nil || uint16(lp) != port {
			continue
		}
		if ip != nil && h != "00000000" && h != hexLE(ip) {
			continue
		}
		if fields[9] != "0" {
			out[fields[9]] = true
		}
	}
	return sc.Err()
}

// hexLE renders an IPv4 address the way /proc/net tables do (host byte order on
// little-endian machines).
func hexLE(ip net.IP) string {
	return fmt.Sprintf("%02X%02X%02X%02X", ip[3], ip[2], ip[1], ip[0])
}

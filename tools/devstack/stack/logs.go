package stack

import (
	"bytes"
	"io"
	"sync"
)

// logMu serialises whole lines from every process onto the shared writer.
var logMu sync.Mutex

// prefixWriter writes each complete line with the process's name in front, so that the
// logs of every process can share one terminal or file.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.emit(p.buf[:i+1])
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		p.emit(append(p.buf, '\n'))
		p.buf = nil
	}
}

func (p *prefixWriter) emit(line []byte) {
	logMu.Lock()
	defer logMu.Unlock()
	_, _ = p.w.Write(append([]byte(p.prefix), line...))
}

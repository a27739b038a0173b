package ports

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"golang.org/x/time/rate"

	"github.com/convene/convene/messages-svc/internal/app"
	"github.com/convene/convene/messages-svc/internal/domain"
	"github.com/convene/convene/messages-svc/internal/realtime"
	"github.com/convene/convene/messages-svc/internal/wire"
	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/logging"
)

// socketsOpen lets operators (and the end-to-end tests) see how sockets spread over the
// instances.
var socketsOpen = promauto.NewGauge(prometheus.GaugeOpts{
	Name: "messages_ws_connections", Help: "Realtime sockets open on this instance.",
})

// SocketConfig are the limits of one realtime socket.
type SocketConfig struct {
	// MaxFrame is the largest client frame handled; a larger one is answered with an error
	// frame and skipped, and one beyond HardMaxFrame closes the socket (1009).
	MaxFrame     int64
	HardMaxFrame int64
	// QueueSize bounds the frames waiting for a client before it counts as too slow.
	QueueSize int
	// Rate and Burst limit the frames a client sends, per socket.
	Rate  float64
	Burst int
	// PingPeriod is how often the server pings; a client silent for 2×PingPeriod is gone.
	PingPeriod time.Duration
	// WriteWait bounds one write to the client.
	WriteWait time.Duration
	// GapTimeout is how long a message waits for a missing earlier seq before the socket
	// reads it from the database.
	GapTimeout time.Duration
	// OpTimeout bounds the work one client frame starts (database, other services).
	OpTimeout time.Duration
	// SendBuffer, when positive, fixes the kernel send buffer of each socket (SO_SNDBUF)
	// instead of letting it grow to several MB: it bounds the kernel memory a stalled
	// client pins, and makes a stalled client show up in the send queue sooner.
	SendBuffer int
}

// DefaultSocketConfig are the production limits.
func DefaultSocketConfig() SocketConfig {
	return SocketConfig{
		MaxFrame:     16 << 10,
		HardMaxFrame: 1 << 20,
		QueueSize:    256,
		Rate:         50,
		Burst:        100,
		PingPeriod:   25 * time.Second,
		WriteWait:    10 * time.Second,
		GapTimeout:   100 * time.Millisecond,
		OpTimeout:    10 * time.Second,
	}
}

// Socket serves GET /api/v1/ws.
type Socket struct {
	app      *app.Application
	hub      *realtime.Hub
	cfg      SocketConfig
	log      *slog.Logger
	upgrader websocket.Upgrader
	// conns tracks the socket handlers so that shutdown can wait for them.
	conns sync.WaitGroup
}

// NewSocket returns the socket port.
func NewSocket(a *app.Application, hub *realtime.Hub, cfg SocketConfig, log *slog.Logger) *Socket {
	return &Socket{
		app: a, hub: hub, cfg: cfg, log: log,
		upgrader: websocket.Upgrader{
			// An idle socket holds only its read buffer: 256 bytes hold every control frame
			// and the header of any frame, and larger frames are read through it whole.
			// Write buffers are taken from a pool for the duration of one write.
			ReadBufferSize:  256,
			WriteBufferSize: 4096,
			WriteBufferPool: &sync.Pool{},
			// The caller is authenticated by the gateway's signed identity header, not by a
			// cookie, so a cross-origin page gains nothing; the gateway owns origin policy.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

// Register adds the socket route to an authenticated /api/v1 group.
func (s *Socket) Register(api gin.IRoutes) { api.GET("/ws", s.serve) }

// Wait blocks until every socket ended (after Hub.Close ended their sessions).
func (s *Socket) Wait() { s.conns.Wait() }

// socketConn is one open socket. Of goroutines it has only its reader while idle: the
// writer runs while there are frames to write, keepalive pings fire from a timer, and the
// close is written when the session ends.
type socketConn struct {
	s    *Socket
	ws   *websocket.Conn
	sess *realtime.Session
	// writing is set while a writer goroutine drains the session's queue.
	writing atomic.Bool
	// pingMu guards ping, the keepalive timer: nil once the socket ended.
	pingMu sync.Mutex
	ping   *time.Timer
}

// serve upgrades the request and hands the socket to a goroutine of its own, then returns:
// what net/http and gin hold for a request in flight (its buffers, the handler's deep
// stack) is released instead of living as long as the socket. The access log therefore
// records the upgrade, not the socket's lifetime.
func (s *Socket) serve(c *gin.Context) {
	reqCtx := c.Request.Context()
	id, _ := authn.FromContext(reqCtx)
	ws, err := s.upgrader.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader has answered the client with an HTTP error
	}
	if tcp, ok := ws.NetConn().(*net.TCPConn); ok && s.cfg.SendBuffer > 0 {
		_ = tcp.SetWriteBuffer(s.cfg.SendBuffer)
	}
	// The socket's context keeps only what its work needs from the request: the user (for
	// the calls made on their behalf) and the request ID (for the logs).
	ctx := authn.WithIdentity(logging.WithRequestID(context.Background(), logging.RequestID(reqCtx)), id)
	s.conns.Add(1)
	go s.run(ctx, ws, id)
}

// run serves one socket until it closes.
func (s *Socket) run(ctx context.Context, ws *websocket.Conn, id authn.Identity) {
	defer s.conns.Done()
	conn := &socketConn{s: s, ws: ws}
	conn.sess = realtime.NewSession(ctx, realtime.SessionParams{
		UserID:     id.UserID,
		MaxQueue:   s.cfg.QueueSize,
		GapTimeout: s.cfg.GapTimeout,
		Fetch:      s.fetch,
		OnRepairError: func(chatID string, err error) {
			s.log.WarnContext(ctx, "gap repair failed", "chat_id", chatID, "err", err)
		},
		Notify:  conn.startWriter,
		OnClose: func() { go conn.close() },
	})
	sess := conn.sess
	s.hub.Add(sess)
	defer s.hub.Remove(sess)
	socketsOpen.Inc()
	defer socketsOpen.Dec()
	conn.startPings()
	defer conn.stopPings()

	// The start positions come from chats-svc over gRPC, a deep call stack. Made from this
	// goroutine, it would grow the stack that the socket then keeps, idle, for its whole
	// life (stacks only shrink at garbage collections, and an idle server seldom runs one);
	// made from a goroutine of its own, that stack is freed when the call returns. Client
	// frames wait for it, as Resume must come after Start.
	onOwnStack(func() { s.start(ctx, sess) })
	s.readLoop(ctx, ws, sess, id)
	sess.Close(websocket.CloseNormalClosure, "")
}

// startWriter is the session's Notify: it starts a writer unless one is running.
func (c *socketConn) startWriter() {
	if c.writing.CompareAndSwap(false, true) {
		go c.write()
	}
}

// write sends the queued frames until the queue is empty, then ends. A frame queued as it
// ends starts it again: after clearing the flag it looks once more.
func (c *socketConn) write() {
	for {
		frames := c.sess.Take()
		if len(frames) == 0 {
			c.writing.Store(false)
			if !c.sess.Pending() || !c.writing.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		for _, f := range frames {
			if isDone(c.sess) {
				return // the session ended meanwhile: its close frame comes next
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				c.sess.Close(websocket.CloseAbnormalClosure, "write failed")
				return
			}
		}
	}
}

func (c *socketConn) startPings() {
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	c.ping = time.AfterFunc(c.s.cfg.PingPeriod, c.sendPing)
}

func (c *socketConn) stopPings() {
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	c.ping.Stop()
	c.ping = nil
}

// sendPing runs on the keepalive timer; a client that does not answer pings is dropped
// by the reader's deadline.
func (c *socketConn) sendPing() {
	if isDone(c.sess) {
		return
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.s.cfg.WriteWait)); err != nil {
		c.sess.Close(websocket.CloseAbnormalClosure, "ping failed")
		return
	}
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	if c.ping != nil {
		c.ping.Reset(c.s.cfg.PingPeriod)
	}
}

// close sends the session's close status and closes the connection, which ends the reader.
// A write in flight finishes first (or fails at its deadline): a slow consumer that reads
// again learns why it was closed (4008) and resumes.
func (c *socketConn) close() {
	code, reason := c.sess.CloseStatus()
	deadline := time.Now().Add(c.s.cfg.WriteWait + time.Second)
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
	_ = c.ws.Close()
}

// start sets where each of the user's chats begins on this socket. Without chats-svc the
// socket still works: chats then start at their first live message.
func (s *Socket) start(ctx context.Context, sess *realtime.Session) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.OpTimeout)
	defer cancel()
	positions, err := s.app.ChatPositions(ctx, sess.UserID())
	if err != nil {
		s.log.WarnContext(ctx, "socket start positions unavailable", "err", err)
	}
	sess.Start(positions)
}

func (s *Socket) readLoop(ctx context.Context, ws *websocket.Conn, sess *realtime.Session, id authn.Identity) {
	pongWait := 2 * s.cfg.PingPeriod
	ws.SetReadLimit(s.cfg.HardMaxFrame)
	_ = ws.SetReadDeadline(time.Now().Add(pongWait))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(pongWait)) })
	limiter := rate.NewLimiter(rate.Limit(s.cfg.Rate), s.cfg.Burst)
	for {
		kind, r, err := ws.NextReader()
		if err != nil {
			return
		}
		data, tooLarge, err := readFrame(r, s.cfg.MaxFrame)
		if err != nil {
			return
		}
		_ = ws.SetReadDeadline(time.Now().Add(pongWait))
		switch {
		case kind != websocket.TextMessage:
			sess.Send(errorFrame("unsupported_frame", "frames must be JSON text", nil))
		case tooLarge:
			sess.Send(errorFrame("frame_too_large", "frame exceeds 16 KiB", nil))
		case !limiter.Allow():
			sess.Send(errorFrame("rate_limited", "too many frames, slow down", nil))
		default:
			onOwnStack(func() { s.handle(ctx, sess, id, data) })
		}
		if isDone(sess) {
			return
		}
	}
}

// onOwnStack runs f on a goroutine of its own and waits for it. A socket's reader spends
// its life blocked in a shallow read; the deep calls a frame starts (database, gRPC) would
// grow its stack, which an idle socket then keeps. The extra goroutine costs about a
// microsecond per frame; each socket's frames stay handled one at a time, in order.
func onOwnStack(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func isDone(sess *realtime.Session) bool {
	select {
	case <-sess.Done():
		return true
	default:
		return false
	}
}

// readFrame reads one frame up to max bytes; a longer one is drained and reported, so that
// the socket goes on. The frame gets a buffer of its own: an idle socket keeps none.
func readFrame(r io.Reader, max int64) ([]byte, bool, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > max {
		_, err := io.Copy(io.Discard, r)
		return nil, true, err
	}
	return data, false, nil
}

// handle runs one client frame. A refused frame is answered with an error frame naming the
// chat and client_msg_id it concerned; the socket and its other chats go on.
func (s *Socket) handle(ctx context.Context, sess *realtime.Session, id authn.Identity, data []byte) {
	var f wire.ClientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			sess.Send(errorFrame("invalid_field", "field "+typeErr.Field+" has the wrong type", nil))
			return
		}
		sess.Send(errorFrame("invalid_json", "frame must be a JSON object", nil))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.OpTimeout)
	defer cancel()
	var err error
	switch f.Type {
	case wire.TypeSend:
		var view domain.MessageView
		view, _, err = s.app.SendMessage(ctx, app.SendMessage{
			UserID: id.UserID, UserName: id.Username, ChatID: f.ChatID, Text: f.Text, ClientMsgID: f.ClientMsgID,
		})
		if err == nil {
			sess.Send(wire.Encode(wire.AckFrame{Type: wire.TypeAck, ClientMsgID: f.ClientMsgID, Message: wire.NewMessage(view)}))
		}
	case wire.TypeRead:
		err = s.app.MarkRead(ctx, app.MarkRead{UserID: id.UserID, ChatID: f.ChatID, Seq: f.Seq})
	case wire.TypeTyping:
		err = s.app.Typing(ctx, id.UserID, f.ChatID)
	case wire.TypeResume:
		if f.AfterSeq < 0 {
			err = &domain.ValidationError{Code: "invalid_after_seq", Message: "after_seq must be a non-negative integer"}
		} else {
			err = sess.Resume(f.ChatID, f.AfterSeq)
		}
	default:
		sess.Send(errorFrame("unknown_type", "unknown frame type", &f))
		return
	}
	if err != nil && !errors.Is(err, realtime.ErrClosed) {
		code, msg := frameError(err)
		if code == httpx.CodeInternal {
			s.log.ErrorContext(ctx, "socket frame failed", "type", f.Type, "err", err)
		}
		sess.Send(errorFrame(code, msg, &f))
	}
}

// fetch is the sessions' Fetcher: history pages rendered as message frames.
func (s *Socket) fetch(ctx context.Context, userID, chatID string, afterSeq int64, limit int) ([]realtime.SeqFrame, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.OpTimeout)
	defer cancel()
	page, more, err := s.app.Replay(ctx, userID, chatID, afterSeq, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]realtime.SeqFrame, len(page))
	for i, v := range page {
		out[i] = realtime.SeqFrame{Seq: v.Seq, Frame: wire.Encode(wire.MessageFrame{Type: wire.TypeMessage, Message: wire.NewMessage(v)})}
	}
	return out, more, nil
}

// frameError maps a use-case error to an error frame's code, as httpError does for HTTP.
func frameError(err error) (code, message string) {
	var he *httpx.Error
	if errors.As(httpError(err), &he) {
		return he.Code, he.Message
	}
	return httpx.CodeInternal, "internal error"
}

func errorFrame(code, message string, f *wire.ClientFrame) []byte {
	e := wire.ErrorFrame{Type: wire.TypeError, Code: code, Message: message}
	if f != nil {
		e.ChatID, e.ClientMsgID = f.ChatID, f.ClientMsgID
	}
	return wire.Encode(e)
}

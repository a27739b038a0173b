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
			// A small read buffer and pooled write buffers keep an idle socket cheap; frames
			// larger than the buffers are still read and written whole.
			ReadBufferSize:  1024,
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

// Wait blocks until every socket handler returned (after Hub.Close ended their sessions).
func (s *Socket) Wait() { s.conns.Wait() }

func (s *Socket) serve(c *gin.Context) {
	id, _ := authn.FromContext(c.Request.Context())
	ws, err := s.upgrader.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader has answered the client with an HTTP error
	}
	s.conns.Add(1)
	defer s.conns.Done()
	if tcp, ok := ws.NetConn().(*net.TCPConn); ok && s.cfg.SendBuffer > 0 {
		_ = tcp.SetWriteBuffer(s.cfg.SendBuffer)
	}
	ctx := context.WithoutCancel(c.Request.Context())
	sess := realtime.NewSession(ctx, realtime.SessionParams{
		UserID:     id.UserID,
		MaxQueue:   s.cfg.QueueSize,
		GapTimeout: s.cfg.GapTimeout,
		Fetch:      s.fetch,
		OnRepairError: func(chatID string, err error) {
			s.log.WarnContext(ctx, "gap repair failed", "chat_id", chatID, "err", err)
		},
	})
	if err := s.hub.Add(ctx, sess); err != nil {
		s.log.WarnContext(ctx, "socket subscribe failed", "err", err)
		_ = ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "unavailable"), time.Now().Add(time.Second))
		ws.Close()
		return
	}
	defer s.hub.Remove(context.WithoutCancel(ctx), sess)
	socketsOpen.Inc()
	defer socketsOpen.Dec()

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop(ws, sess)
		ws.Close() // unblocks the reader
	}()

	s.start(ctx, sess)
	s.readLoop(ctx, ws, sess, id)
	sess.Close(websocket.CloseNormalClosure, "")
	<-writerDone
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

func (s *Socket) writeLoop(ws *websocket.Conn, sess *realtime.Session) {
	ping := time.NewTicker(s.cfg.PingPeriod)
	defer ping.Stop()
	for {
		select {
		case <-sess.Wake():
			for _, f := range sess.Take() {
				if isDone(sess) {
					break // the session ended meanwhile: its close frame comes next
				}
				_ = ws.SetWriteDeadline(time.Now().Add(s.cfg.WriteWait))
				if err := ws.WriteMessage(websocket.TextMessage, f); err != nil {
					sess.Close(websocket.CloseAbnormalClosure, "write failed")
					return
				}
			}
		case <-ping.C:
			if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteWait)); err != nil {
				sess.Close(websocket.CloseAbnormalClosure, "ping failed")
				return
			}
		case <-sess.Done():
			code, reason := sess.CloseStatus()
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
			return
		}
	}
}

func (s *Socket) readLoop(ctx context.Context, ws *websocket.Conn, sess *realtime.Session, id authn.Identity) {
	pongWait := 2 * s.cfg.PingPeriod
	ws.SetReadLimit(s.cfg.HardMaxFrame)
	_ = ws.SetReadDeadline(time.Now().Add(pongWait))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(pongWait)) })
	limiter := rate.NewLimiter(rate.Limit(s.cfg.Rate), s.cfg.Burst)
	buf := make([]byte, 0, 512)
	for {
		kind, r, err := ws.NextReader()
		if err != nil {
			return
		}
		data, tooLarge, err := readFrame(r, s.cfg.MaxFrame, buf[:0])
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
			s.handle(ctx, sess, id, data)
		}
		if isDone(sess) {
			return
		}
	}
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
// the socket goes on.
func readFrame(r io.Reader, max int64, buf []byte) ([]byte, bool, error) {
	w := bytesWriter{b: buf}
	n, err := io.Copy(&w, io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, err
	}
	if n > max {
		_, err := io.Copy(io.Discard, r)
		return nil, true, err
	}
	return w.b, false, nil
}

type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
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

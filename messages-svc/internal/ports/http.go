package ports

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/convene/convene/messages-svc/internal/app"
	"github.com/convene/convene/messages-svc/internal/domain"
	"github.com/convene/convene/messages-svc/internal/wire"
	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/httpx"
)

// MaxBody bounds request bodies: a 10000-character text, even fully \u-escaped, fits.
const MaxBody = httpx.DefaultMaxBody

// HTTP serves the message endpoints of API.md.
type HTTP struct {
	app *app.Application
}

// NewHTTP returns the HTTP port.
func NewHTTP(a *app.Application) *HTTP { return &HTTP{app: a} }

// Register adds the routes to an authenticated /api/v1 group.
func (h *HTTP) Register(api gin.IRoutes) {
	api.GET("/chats/:chat_id/messages", h.list)
	api.POST("/chats/:chat_id/messages", h.send)
	api.PATCH("/chats/:chat_id/messages/:message_id", h.edit)
	api.DELETE("/chats/:chat_id/messages/:message_id", h.delete)
	api.POST("/chats/:chat_id/read", h.read)
}

type messageBody struct {
	Message wire.Message `json:"message"`
}

type listBody struct {
	Items      []wire.Message `json:"items"`
	NextCursor string         `json:"next_cursor"`
}

func (h *HTTP) list(c *gin.Context) {
	q, herr := historyQuery(c)
	if herr != nil {
		httpx.Abort(c, herr)
		return
	}
	page, more, err := h.app.ListMessages(c.Request.Context(), app.ListMessages{
		UserID: authn.UserID(c.Request.Context()), ChatID: c.Param("chat_id"), Query: q,
	})
	if err != nil {
		httpx.Abort(c, httpError(err))
		return
	}
	out := listBody{Items: make([]wire.Message, len(page))}
	for i, v := range page {
		out.Items[i] = wire.NewMessage(v)
	}
	if more {
		out.NextCursor = strconv.FormatInt(page[len(page)-1].Seq, 10)
	}
	c.JSON(http.StatusOK, out)
}

// historyQuery reads ?after_seq= | ?before_seq= and ?limit=; next_cursor is the value to
// pass back in the same parameter.
func historyQuery(c *gin.Context) (domain.HistoryQuery, *httpx.Error) {
	q := domain.HistoryQuery{Limit: app.DefaultPageSize}
	after, hasAfter := c.GetQuery("after_seq")
	before, hasBefore := c.GetQuery("before_seq")
	if hasAfter && hasBefore {
		return q, httpx.BadRequest("conflicting_cursors", "pass after_seq or before_seq, not both")
	}
	if hasAfter {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < 0 {
			return q, httpx.BadRequest("invalid_after_seq", "after_seq must be a non-negative integer")
		}
		q.Ascending, q.AfterSeq = true, n
	}
	if hasBefore {
		n, err := strconv.ParseInt(before, 10, 64)
		if err != nil || n < 1 {
			return q, httpx.BadRequest("invalid_before_seq", "before_seq must be a positive integer")
		}
		q.BeforeSeq = n
	}
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > app.MaxPageSize {
			return q, httpx.BadRequest("invalid_limit", "limit must be between 1 and 200")
		}
		q.Limit = n
	}
	return q, nil
}

type sendRequest struct {
	Text        string `json:"text"`
	ClientMsgID string `json:"client_msg_id"`
}

func (h *HTTP) send(c *gin.Context) {
	var req sendRequest
	if herr := httpx.BindJSON(c, &req, MaxBody); herr != nil {
		httpx.Abort(c, herr)
		return
	}
	id, _ := authn.FromContext(c.Request.Context())
	view, created, err := h.app.SendMessage(c.Request.Context(), app.SendMessage{
		UserID: id.UserID, UserName: id.Username, ChatID: c.Param("chat_id"), Text: req.Text, ClientMsgID: req.ClientMsgID,
	})
	if err != nil {
		httpx.Abort(c, httpError(err))
		return
	}
	code := http.StatusCreated
	if !created {
		code = http.StatusOK
	}
	c.JSON(code, messageBody{Message: wire.NewMessage(view)})
}

type editRequest struct {
	Text string `json:"text"`
}

func (h *HTTP) edit(c *gin.Context) {
	var req editRequest
	if herr := httpx.BindJSON(c, &req, MaxBody); herr != nil {
		httpx.Abort(c, herr)
		return
	}
	view, err := h.app.EditMessage(c.Request.Context(), app.EditMessage{
		UserID: authn.UserID(c.Request.Context()), ChatID: c.Param("chat_id"), MessageID: c.Param("message_id"), Text: req.Text,
	})
	if err != nil {
		httpx.Abort(c, httpError(err))
		return
	}
	c.JSON(http.StatusOK, messageBody{Message: wire.NewMessage(view)})
}

func (h *HTTP) delete(c *gin.Context) {
	err := h.app.DeleteMessage(c.Request.Context(), app.DeleteMessage{
		UserID: authn.UserID(c.Request.Context()), ChatID: c.Param("chat_id"), MessageID: c.Param("message_id"),
	})
	if err != nil {
		httpx.Abort(c, httpError(err))
		return
	}
	c.Status(http.StatusNoContent)
}

type readRequest struct {
	Seq int64 `json:"seq"`
}

func (h *HTTP) read(c *gin.Context) {
	var req readRequest
	if herr := httpx.BindJSON(c, &req, MaxBody); herr != nil {
		httpx.Abort(c, herr)
		return
	}
	err := h.app.MarkRead(c.Request.Context(), app.MarkRead{
		UserID: authn.UserID(c.Request.Context()), ChatID: c.Param("chat_id"), Seq: req.Seq,
	})
	if err != nil {
		httpx.Abort(c, httpError(err))
		return
	}
	c.Status(http.StatusNoContent)
}

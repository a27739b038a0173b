// Package ports exposes chats-svc's app: the public HTTP API (gin, behind the gateway) and
// the chats.v1 gRPC server for messages-svc.
package ports

import (
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/convene/convene/chats-svc/internal/app"
	"github.com/convene/convene/chats-svc/internal/domain"
	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/ratelimit"
)

// MaxBody bounds a request body: a title and 100 member emails of 254 bytes fit with room
// to spare.
const MaxBody = 32 << 10

// HTTPParams configures the HTTP port.
type HTTPParams struct {
	App     *app.App
	Signer  *authn.Signer
	Limiter ratelimit.Limiter
	// WriteLimit bounds each user's creations, additions and removals.
	WriteLimit ratelimit.Limit
	Log        *slog.Logger
}

// RegisterHTTP adds chats-svc's routes to r.
func RegisterHTTP(r gin.IRouter, p HTTPParams) {
	h := &httpHandlers{app: p.App}
	write := rateLimit(p.Limiter, p.WriteLimit, p.Log)
	chats := r.Group("/api/v1/chats", httpx.RequireIdentity(p.Signer))
	chats.POST("", write, h.createChat)
	chats.GET("", h.listChats)
	chats.GET("/:chat_id", h.getChat)
	chats.POST("/:chat_id/members", write, h.addMember)
	chats.DELETE("/:chat_id/members/:user_id", write, h.removeMember)
}

type httpHandlers struct{ app *app.App }

type createChatRequest struct {
	Title        string   `json:"title"`
	MemberEmails []string `json:"member_emails"`
}

func (h *httpHandlers) createChat(c *gin.Context) {
	ctx := c.Request.Context()
	var req createChatRequest
	if err := httpx.BindJSON(c, &req, MaxBody); err != nil {
		httpx.Abort(c, err)
		return
	}
	view, err := h.app.CreateChat(ctx, app.CreateChat{
		CreatorID:    authn.UserID(ctx),
		Title:        req.Title,
		MemberEmails: req.MemberEmails,
	})
	if err != nil {
		httpx.Abort(c, toHTTP(err))
		return
	}
	c.JSON(http.StatusCreated, gin.H{"chat": toChatJSON(view)})
}

func (h *httpHandlers) listChats(c *gin.Context) {
	ctx := c.Request.Context()
	limit := 0 // the app's default
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			httpx.Abort(c, toHTTP(domain.ErrInvalidLimit))
			return
		}
		limit = n
	}
	page, err := h.app.ListChats(ctx, app.ListChats{UserID: authn.UserID(ctx), Limit: limit, Before: c.Query("before")})
	if err != nil {
		httpx.Abort(c, toHTTP(err))
		return
	}
	items := make([]chatJSON, len(page.Items))
	for i, v := range page.Items {
		items[i] = toChatJSON(v)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": page.NextCursor})
}

func (h *httpHandlers) getChat(c *gin.Context) {
	ctx := c.Request.Context()
	d, err := h.app.GetChat(ctx, authn.UserID(ctx), c.Param("chat_id"))
	if err != nil {
		httpx.Abort(c, toHTTP(err))
		return
	}
	members := make([]userJSON, len(d.Members))
	for i, m := range d.Members {
		members[i] = toUserJSON(m)
	}
	c.JSON(http.StatusOK, gin.H{"chat": toChatJSON(d.ChatView), "members": members})
}

type addMemberRequest struct {
	Email string `json:"email"`
}

func (h *httpHandlers) addMember(c *gin.Context) {
	var req addMemberRequest
	if err := httpx.BindJSON(c, &req, MaxBody); err != nil {
		httpx.Abort(c, err)
		return
	}
	ctx := c.Request.Context()
	user, err := h.app.AddMember(ctx, app.AddMember{ActorID: authn.UserID(ctx), ChatID: c.Param("chat_id"), Email: req.Email})
	if err != nil {
		httpx.Abort(c, toHTTP(err))
		return
	}
	c.JSON(http.StatusCreated, gin.H{"member": toUserJSON(user)})
}

func (h *httpHandlers) removeMember(c *gin.Context) {
	ctx := c.Request.Context()
	err := h.app.RemoveMember(ctx, app.RemoveMember{ActorID: authn.UserID(ctx), ChatID: c.Param("chat_id"), UserID: c.Param("user_id")})
	if err != nil {
		httpx.Abort(c, toHTTP(err))
		return
	}
	c.Status(http.StatusNoContent)
}

// rateLimit answers 429 once the user used up l. When the limiter itself fails (Redis
// down) the request goes through: losing the limit for a while beats refusing everyone.
func rateLimit(limiter ratelimit.Limiter, l ratelimit.Limit, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		res, err := limiter.Allow(ctx, "chats-svc:write:"+authn.UserID(ctx), l)
		if err != nil {
			log.WarnContext(ctx, "rate limiter unavailable; request allowed", "err", err)
			c.Next()
			return
		}
		if !res.Allowed {
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(res.RetryAfter.Seconds()))))
			httpx.Abort(c, httpx.NewError(http.StatusTooManyRequests, httpx.CodeRateLimited, "too many changes; slow down"))
			return
		}
		c.Next()
	}
}

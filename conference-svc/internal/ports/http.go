// Package ports exposes the scheduling use cases: the REST API of API.md (gin) and the
// conference.v1 gRPC service. Errors are translated here, once, from domain sentinels.
package ports

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/convene/convene/conference-svc/internal/app"
	"github.com/convene/convene/conference-svc/internal/domain"
	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/ratelimit"
)

const (
	// MaxBody bounds a conference's JSON body: a title and two small fields.
	MaxBody = 8 << 10
	// maxIdempotencyKey bounds the Idempotency-Key header.
	maxIdempotencyKey = 128
	// IdempotencyKeyHeader makes a retried create return the conference it created first.
	IdempotencyKeyHeader = "Idempotency-Key"
)

// HTTPParams builds the REST handlers.
type HTTPParams struct {
	App     *app.App
	Limiter ratelimit.Limiter
	// CreateLimit bounds how many conferences one user may create.
	CreateLimit ratelimit.Limit
}

// HTTP holds the REST handlers.
type HTTP struct {
	app         *app.App
	limiter     ratelimit.Limiter
	createLimit ratelimit.Limit
}

// NewHTTP returns the REST handlers.
func NewHTTP(p HTTPParams) *HTTP {
	return &HTTP{app: p.App, limiter: p.Limiter, createLimit: p.CreateLimit}
}

// Register adds the routes to an authenticated group (httpx.RequireIdentity).
func (h *HTTP) Register(r gin.IRoutes) {
	r.POST("/api/v1/teams/:team_id/conferences", h.create)
	r.GET("/api/v1/teams/:team_id/conferences", h.list)
	r.GET("/api/v1/conferences/:conf_id", h.get)
	r.PATCH("/api/v1/conferences/:conf_id", h.update)
	r.DELETE("/api/v1/conferences/:conf_id", h.delete)
	r.GET("/api/v1/conferences/:conf_id/ics", h.calendar)
}

// ConferenceJSON is API.md's conference.
type ConferenceJSON struct {
	ID               string `json:"id"`
	TeamID           string `json:"team_id"`
	Title            string `json:"title"`
	StartsAt         string `json:"starts_at"`
	WaitingRoom      bool   `json:"waiting_room"`
	CreatedBy        string `json:"created_by"`
	Status           string `json:"status"`
	ParticipantCount int    `json:"participant_count"`
	CreatedAt        string `json:"created_at"`
	UpdatedAt        string `json:"updated_at"`
}

// ViewJSON is a conference with the caller's role in it.
type ViewJSON struct {
	Conference ConferenceJSON `json:"conference"`
	Role       string         `json:"role"`
}

// ListJSON is a page of conferences.
type ListJSON struct {
	Items      []ConferenceJSON `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

func toJSON(c domain.Conference) ConferenceJSON {
	return ConferenceJSON{
		ID: c.ID, TeamID: c.TeamID, Title: c.Title, StartsAt: rfc3339(c.StartsAt),
		WaitingRoom: c.WaitingRoom, CreatedBy: c.CreatedBy, Status: string(c.Status),
		ParticipantCount: c.ParticipantCount, CreatedAt: rfc3339(c.CreatedAt), UpdatedAt: rfc3339(c.UpdatedAt),
	}
}

func viewJSON(v app.View) ViewJSON {
	return ViewJSON{Conference: toJSON(v.Conference), Role: string(v.Role)}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

type createBody struct {
	Title       *string `json:"title"`
	StartsAt    *string `json:"starts_at"`
	WaitingRoom bool    `json:"waiting_room"`
}

func (h *HTTP) create(c *gin.Context) {
	ctx := c.Request.Context()
	user := authn.UserID(ctx)
	var body createBody
	if err := httpx.BindJSON(c, &body, MaxBody); err != nil {
		httpx.Abort(c, err)
		return
	}
	if body.Title == nil {
		httpx.Abort(c, httpx.BadRequest("title_required", "title is required"))
		return
	}
	if body.StartsAt == nil {
		httpx.Abort(c, httpx.BadRequest("starts_at_required", "starts_at is required"))
		return
	}
	startsAt, herr := parseTime(*body.StartsAt)
	if herr != nil {
		httpx.Abort(c, herr)
		return
	}
	key := c.GetHeader(IdempotencyKeyHeader)
	if len(key) > maxIdempotencyKey {
		httpx.Abort(c, httpx.BadRequest("invalid_idempotency_key", "Idempotency-Key is longer than 128 characters"))
		return
	}
	if herr := h.allow(ctx, c, "conference-create:"+user, h.createLimit); herr != nil {
		httpx.Abort(c, herr)
		return
	}
	v, created, err := h.app.CreateConference(ctx, app.CreateConference{
		TeamID: c.Param("team_id"), UserID: user, Title: *body.Title, StartsAt: startsAt,
		WaitingRoom: body.WaitingRoom, IdempotencyKey: key,
	})
	if err != nil {
		httpx.Abort(c, HTTPError(err))
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.JSON(status, viewJSON(v))
}

func (h *HTTP) list(c *gin.Context) {
	limit := 0
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			httpx.Abort(c, HTTPError(app.ErrInvalidLimit))
			return
		}
		limit = n
	}
	page, err := h.app.ListConferences(c.Request.Context(), app.ListConferences{
		TeamID: c.Param("team_id"), UserID: authn.UserID(c.Request.Context()), After: c.Query("after"), Limit: limit,
	})
	if err != nil {
		httpx.Abort(c, HTTPError(err))
		return
	}
	out := ListJSON{Items: make([]ConferenceJSON, len(page.Items)), NextCursor: page.NextCursor}
	for i, conf := range page.Items {
		out.Items[i] = toJSON(conf)
	}
	c.JSON(http.StatusOK, out)
}

func (h *HTTP) get(c *gin.Context) {
	v, err := h.app.GetConference(c.Request.Context(), c.Param("conf_id"), authn.UserID(c.Request.Context()))
	if err != nil {
		httpx.Abort(c, HTTPError(err))
		return
	}
	c.JSON(http.StatusOK, viewJSON(v))
}

type patchBody struct {
	Title       *string `json:"title"`
	StartsAt    *string `json:"starts_at"`
	WaitingRoom *bool   `json:"waiting_room"`
}

func (h *HTTP) update(c *gin.Context) {
	var body patchBody
	if err := httpx.BindJSON(c, &body, MaxBody); err != nil {
		httpx.Abort(c, err)
		return
	}
	patch := domain.Patch{Title: body.Title, WaitingRoom: body.WaitingRoom}
	if body.StartsAt != nil {
		t, herr := parseTime(*body.StartsAt)
		if herr != nil {
			httpx.Abort(c, herr)
			return
		}
		patch.StartsAt = &t
	}
	v, err := h.app.UpdateConference(c.Request.Context(), c.Param("conf_id"), authn.UserID(c.Request.Context()), patch)
	if err != nil {
		httpx.Abort(c, HTTPError(err))
		return
	}
	c.JSON(http.StatusOK, viewJSON(v))
}

func (h *HTTP) delete(c *gin.Context) {
	if err := h.app.DeleteConference(c.Request.Context(), c.Param("conf_id"), authn.UserID(c.Request.Context())); err != nil {
		httpx.Abort(c, HTTPError(err))
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *HTTP) calendar(c *gin.Context) {
	v, err := h.app.GetConference(c.Request.Context(), c.Param("conf_id"), authn.UserID(c.Request.Context()))
	if err != nil {
		httpx.Abort(c, HTTPError(err))
		return
	}
	c.Header("Content-Disposition", `attachment; filename="conference-`+v.Conference.ID+`.ics"`)
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", []byte(Calendar(v.Conference)))
}

// allow applies a rate limit; a limiter that cannot answer lets the request through, as
// rate limits protect capacity and must not turn a Redis hiccup into an outage.
func (h *HTTP) allow(ctx context.Context, c *gin.Context, key string, l ratelimit.Limit) *httpx.Error {
	if h.limiter == nil || l.Rate == 0 {
		return nil
	}
	res, err := h.limiter.Allow(ctx, key, l)
	if err != nil || res.Allowed {
		return nil
	}
	c.Header("Retry-After", strconv.Itoa(max(1, int(res.RetryAfter.Seconds()+0.5))))
	return httpx.NewError(http.StatusTooManyRequests, httpx.CodeRateLimited, "too many conferences created; retry later")
}

// parseTime accepts RFC 3339 times with any offset; they are stored in UTC.
func parseTime(s string) (time.Time, *httpx.Error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, httpx.BadRequest("invalid_starts_at", "starts_at must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
	}
	return t, nil
}

package ports

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/httpx"
	"github.com/convene/convene/platform/ratelimit"
	"github.com/convene/convene/teams-svc/internal/app"
	"github.com/convene/convene/teams-svc/internal/domain"
)

// MaxBody bounds every request body: a 10000-character text with every character
// sent as a six-byte \u escape still fits.
const MaxBody = 64 << 10

// maxIdempotencyKeyLen bounds the Idempotency-Key header.
const maxIdempotencyKeyLen = 100

// HTTPParams configure the HTTP API.
type HTTPParams struct {
	App    *app.App
	Signer *authn.Signer
	// Limiter and WriteLimit bound how many writes (posts, comments, teams, changes) one
	// user makes; a limiter failure lets the write through.
	Limiter    ratelimit.Limiter
	WriteLimit ratelimit.Limit
	Log        *slog.Logger
}

type httpAPI struct {
	app *app.App
}

// RegisterHTTP adds API.md's teams, requests, members, posts and comments routes to r.
func RegisterHTTP(r gin.IRouter, p HTTPParams) {
	h := &httpAPI{app: p.App}
	api := r.Group("/api/v1", httpx.RequireIdentity(p.Signer))
	w := limitWrites(p.Limiter, p.WriteLimit, p.Log)

	api.POST("/teams", w, h.createTeam)
	api.GET("/teams", h.myTeams)
	api.POST("/teams/join", h.join)
	api.GET("/teams/:team_id", h.getTeam)
	api.PATCH("/teams/:team_id", w, h.updateTeam)
	api.DELETE("/teams/:team_id", w, h.deleteTeam)
	api.POST("/teams/:team_id/join-code", w, h.rotateJoinCode)

	api.GET("/teams/:team_id/requests", h.pendingRequests)
	api.POST("/teams/:team_id/requests/:request_id/accept", w, h.acceptRequest)
	api.POST("/teams/:team_id/requests/:request_id/reject", w, h.rejectRequest)

	api.GET("/teams/:team_id/members", h.members)
	api.POST("/teams/:team_id/members", w, h.addMember)
	api.PATCH("/teams/:team_id/members/:user_id", w, h.changeRole)
	api.DELETE("/teams/:team_id/members/:user_id", w, h.removeMember)

	api.GET("/teams/:team_id/posts", h.listPosts)
	api.POST("/teams/:team_id/posts", w, h.createPost)
	api.PATCH("/teams/:team_id/posts/:post_id", w, h.editPost)
	api.DELETE("/teams/:team_id/posts/:post_id", w, h.deletePost)

	api.GET("/teams/:team_id/posts/:post_id/comments", h.listComments)
	api.POST("/teams/:team_id/posts/:post_id/comments", w, h.createComment)
	api.PATCH("/teams/:team_id/posts/:post_id/comments/:comment_id", w, h.editComment)
	api.DELETE("/teams/:team_id/posts/:post_id/comments/:comment_id", w, h.deleteComment)
}

// limitWrites answers 429 to a user who writes faster than the limit.
func limitWrites(l ratelimit.Limiter, limit ratelimit.Limit, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		res, err := l.Allow(c.Request.Context(), "teams:writes:"+actor(c), limit)
		if err != nil {
			log.WarnContext(c.Request.Context(), "write limiter failed; not limiting", "err", err)
			c.Next()
			return
		}
		if !res.Allowed {
			c.Header("Retry-After", strconv.Itoa(int(max(res.RetryAfter, time.Second).Round(time.Second)/time.Second)))
			httpx.Abort(c, httpError(domain.ErrRateLimited))
			return
		}
		c.Next()
	}
}

func actor(c *gin.Context) string { return authn.UserID(c.Request.Context()) }

func fail(c *gin.Context, err error) { httpx.Abort(c, httpError(err)) }

// pathIDs returns the named path parameters, answering 404 without any query when one
// is not a well-formed id.
func pathIDs(c *gin.Context, names ...string) ([]string, bool) {
	out := make([]string, len(names))
	for i, n := range names {
		v := c.Param(n)
		if !domain.ValidID(v) {
			fail(c, domain.ErrNotFound)
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// page reads ?limit= and the cursor parameter of a list.
func page(c *gin.Context, cursorParam string) (domain.Page, bool) {
	limit := domain.DefaultPageSize
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			httpx.Abort(c, httpx.BadRequest(codeInvalidLimit, "limit must be an integer"))
			return domain.Page{}, false
		}
		limit = n
	}
	p, err := domain.NewPage(limit, c.Query(cursorParam))
	if err != nil {
		fail(c, err)
		return domain.Page{}, false
	}
	return p, true
}

func bind(c *gin.Context, dst any) bool {
	if err := httpx.BindJSON(c, dst, MaxBody); err != nil {
		httpx.Abort(c, err)
		return false
	}
	return true
}

// idempotencyKey reads the optional Idempotency-Key header that makes a POST safe to
// retry.
func idempotencyKey(c *gin.Context) (string, bool) {
	k := c.GetHeader("Idempotency-Key")
	if len(k) > maxIdempotencyKeyLen || strings.ContainsFunc(k, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		httpx.Abort(c, httpx.BadRequest(codeInvalidIdemKey, "Idempotency-Key must be at most 100 visible ASCII characters"))
		return "", false
	}
	return k, true
}

type teamBody struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (h *httpAPI) createTeam(c *gin.Context) {
	var b teamBody
	if !bind(c, &b) {
		return
	}
	v, err := h.app.CreateTeam(c.Request.Context(), actor(c), b.Name, b.Description)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, teamOf(v))
}

func (h *httpAPI) myTeams(c *gin.Context) {
	p, ok := page(c, "before")
	if !ok {
		return
	}
	res, err := h.app.MyTeams(c.Request.Context(), actor(c), p)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(res, teamOf))
}

func (h *httpAPI) getTeam(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id")
	if !ok {
		return
	}
	v, err := h.app.GetTeam(c.Request.Context(), actor(c), ids[0])
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, teamOf(v))
}

type teamPatchBody struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (h *httpAPI) updateTeam(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id")
	if !ok {
		return
	}
	var b teamPatchBody
	if !bind(c, &b) {
		return
	}
	v, err := h.app.UpdateTeam(c.Request.Context(), actor(c), ids[0], b.Name, b.Description)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, teamOf(v))
}

func (h *httpAPI) deleteTeam(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id")
	if !ok {
		return
	}
	if err := h.app.DeleteTeam(c.Request.Context(), actor(c), ids[0]); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *httpAPI) rotateJoinCode(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id")
	if !ok {
		return
	}
	code, err := h.app.RotateJoinCode(c.Request.Context(), actor(c), ids[0])
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"join_code": code})
}

func (h *httpAPI) join(c *gin.Context) {
	var b struct {
		Code string `json:"code"`
	}
	if !bind(c, &b) {
		return
	}
	v, err := h.app.Join(c.Request.Context(), actor(c), b.Code)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"request": requestOf(v)})
}

func (h *httpAPI) pendingRequests(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id")
	if !ok {
		return
	}
	p, ok := page(c, "before")
	if !ok {
		return
	}
	res, err := h.app.PendingRequests(c.Request.Context(), actor(c), ids[0], p)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(res, requestOf))
}

func (h *httpAPI) acceptRequest(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id", "request_id")
	if !ok {
		return
	}
	v, err := h.app.AcceptRequest(c.Request.Context(), actor(c), ids[0], ids[1])
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"member": memberOf(v)})
}

func (h *httpAPI) rejectRequest(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id", "request_id")
	if !ok {
		return
	}
	v, err := h.app.RejectRequest(c.Request.Context(), actor(c), ids[0], ids[1])
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"request": requestOf(v)})
}

func (h *httpAPI) members(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id")
	if !ok {
		return
	}
	p, ok := page(c, "before")
	if !ok {
		return
	}
	res, err := h.app.Members(c.Request.Context(), actor(c), ids[0], p)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(res, memberOf))
}

func (h *httpAPI) addMember(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id")
	if !ok {
		return
	}
	var b struct {
		Email string `json:"email"`
	}
	if !bind(c, &b) {
		return
	}
	v, err := h.app.AddMember(c.Request.Context(), actor(c), ids[0], b.Email)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"member": memberOf(v)})
}

func (h *httpAPI) changeRole(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id", "user_id")
	if !ok {
		return
	}
	var b struct {
		Role string `json:"role"`
	}
	if !bind(c, &b) {
		return
	}
	v, err := h.app.ChangeRole(c.Request.Context(), actor(c), ids[0], ids[1], b.Role)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"member": memberOf(v)})
}

func (h *httpAPI) removeMember(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id", "user_id")
	if !ok {
		return
	}
	if err := h.app.RemoveMember(c.Request.Context(), actor(c), ids[0], ids[1]); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type textBody struct {
	Text string `json:"text"`
}

func (h *httpAPI) listPosts(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id")
	if !ok {
		return
	}
	p, ok := page(c, "before")
	if !ok {
		return
	}
	res, err := h.app.ListPosts(c.Request.Context(), actor(c), ids[0], p)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(res, postOf))
}

func (h *httpAPI) createPost(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id")
	if !ok {
		return
	}
	key, ok := idempotencyKey(c)
	if !ok {
		return
	}
	var b textBody
	if !bind(c, &b) {
		return
	}
	v, created, err := h.app.CreatePost(c.Request.Context(), actor(c), ids[0], b.Text, key)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(createdStatus(created), gin.H{"post": postOf(v)})
}

func (h *httpAPI) editPost(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id", "post_id")
	if !ok {
		return
	}
	var b textBody
	if !bind(c, &b) {
		return
	}
	v, err := h.app.EditPost(c.Request.Context(), actor(c), ids[0], ids[1], b.Text)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"post": postOf(v)})
}

func (h *httpAPI) deletePost(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id", "post_id")
	if !ok {
		return
	}
	if err := h.app.DeletePost(c.Request.Context(), actor(c), ids[0], ids[1]); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// listComments pages oldest first, so its cursor parameter is "after".
func (h *httpAPI) listComments(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id", "post_id")
	if !ok {
		return
	}
	p, ok := page(c, "after")
	if !ok {
		return
	}
	res, err := h.app.ListComments(c.Request.Context(), actor(c), ids[0], ids[1], p)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listOf(res, commentOf))
}

func (h *httpAPI) createComment(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id", "post_id")
	if !ok {
		return
	}
	key, ok := idempotencyKey(c)
	if !ok {
		return
	}
	var b textBody
	if !bind(c, &b) {
		return
	}
	v, created, err := h.app.CreateComment(c.Request.Context(), actor(c), ids[0], ids[1], b.Text, key)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(createdStatus(created), gin.H{"comment": commentOf(v)})
}

func (h *httpAPI) editComment(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id", "post_id", "comment_id")
	if !ok {
		return
	}
	var b textBody
	if !bind(c, &b) {
		return
	}
	v, err := h.app.EditComment(c.Request.Context(), actor(c), ids[0], ids[1], ids[2], b.Text)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"comment": commentOf(v)})
}

func (h *httpAPI) deleteComment(c *gin.Context) {
	ids, ok := pathIDs(c, "team_id", "post_id", "comment_id")
	if !ok {
		return
	}
	if err := h.app.DeleteComment(c.Request.Context(), actor(c), ids[0], ids[1], ids[2]); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// createdStatus is 201 for a new resource and 200 for the replay of an idempotent POST.
func createdStatus(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

package ports

import (
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/convene/convene/platform/httpx"
)

// frontend serves the built web client: files as they are, and index.html for every other
// GET so that the client-side router can resolve deep links.
type frontend struct {
	fsys fs.FS
}

func newFrontend(dir string) *frontend {
	if dir == "" {
		return &frontend{}
	}
	if st, err := os.Stat(path.Join(dir, "index.html")); err != nil || st.IsDir() {
		return &frontend{}
	}
	return &frontend{fsys: os.DirFS(dir)}
}

func (f *frontend) serve(c *gin.Context) {
	if f.fsys == nil {
		httpx.Abort(c, httpx.NotFound("no such route"))
		return
	}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		httpx.Abort(c, httpx.NewError(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"))
		return
	}
	setTarget(c, "frontend")
	name := strings.TrimPrefix(path.Clean("/"+c.Request.URL.Path), "/")
	if name != "" {
		if st, err := fs.Stat(f.fsys, name); err == nil && !st.IsDir() {
			http.ServeFileFS(c.Writer, c.Request, f.fsys, name)
			return
		}
	}
	// The client's router owns every other path; index.html must not be cached, so that
	// a new build is picked up on the next visit.
	c.Header("Cache-Control", "no-cache")
	http.ServeFileFS(c.Writer, c.Request, f.fsys, "index.html")
}

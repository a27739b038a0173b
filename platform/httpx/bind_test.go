package httpx

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

func TestBindJSON(t *testing.T) {
	type body struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}
	cases := []struct {
		name   string
		in     string
		status int
		code   string
	}{
		{"ok", `{"name":"a","age":3}`, 200, ""},
		{"unknown field accepted", `{"name":"a","x":1}`, 200, ""},
		{"malformed", `{"name":`, 400, CodeInvalidJSON},
		{"not json", `hello`, 400, CodeInvalidJSON},
		{"empty", ``, 400, CodeInvalidJSON},
		{"wrong type", `{"age":"old"}`, 400, CodeInvalidField},
		{"array not object", `[1,2]`, 400, CodeInvalidJSON},
		{"trailing data", `{"name":"a"} {"name":"b"}`, 400, CodeInvalidJSON},
		{"too large", `{"name":"` + strings.Repeat("x", 200) + `"}`, 413, CodeBodyTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gin.SetMode(gin.TestMode)
			r := gin.New()
			r.POST("/", func(c *gin.Context) {
				var b body
				if err := BindJSON(c, &b, 100); err != nil {
					Abort(c, err)
					return
				}
				c.Status(200)
			})
			w := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.in))
			if tc.name == "too large" {
				req.ContentLength = -1 // unknown length: the reader must enforce the limit
			}
			r.ServeHTTP(w, req)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.code != "" {
				var e ErrorBody
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
				require.Equal(t, tc.code, e.Error.Code)
				require.NotEmpty(t, e.Error.Message)
			}
		})
	}
}

func TestRedactQuery(t *testing.T) {
	require.Equal(t, "access_token=REDACTED&x=1", RedactQuery("access_token=abc.def&x=1"))
	require.Equal(t, "", RedactQuery(""))
}

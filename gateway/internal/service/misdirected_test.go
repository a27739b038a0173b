package service

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/convene/convene/gateway/internal/routing"
	"github.com/convene/convene/gateway/internal/upstream"
	"github.com/convene/convene/platform/httpx"
)

// misdirector is a conference-svc instance that holds no room: it answers every request,
// upgrades included, with 421 naming the instance that does.
type misdirector struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func newMisdirector(t *testing.T, names string) *misdirector {
	t.Helper()
	m := &misdirector{}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.hits.Add(1)
		w.Header().Set(upstream.InstanceHeader, names)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMisdirectedRequest)
		_ = json.NewEncoder(w).Encode(httpx.ErrorBody{Error: httpx.ErrorDetail{Code: "room_elsewhere", Message: "the room lives on another instance"}})
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *misdirector) addr() string { return strings.TrimPrefix(m.srv.URL, "http://") }

// Static discovery names a service's instances <service>-a, -b, … in the order of its
// address list.
const (
	confA = routing.ConferenceSvc + "-a"
	confB = routing.ConferenceSvc + "-b"
)

func TestMisdirectedRequestIsFollowedOnce(t *testing.T) {
	// Instance a answers 421 naming b; b holds the room.
	wrong := newMisdirector(t, confB)
	s := newStack(t, stackOptions{})
	right := s.backends[routing.ConferenceSvc]
	s = newStack(t, stackOptions{
		backends: s.backends, key: s.key,
		addrs: map[string]string{routing.ConferenceSvc: wrong.addr() + "," + right.addr()},
	})
	tok := s.token(nil)

	t.Run("GET", func(t *testing.T) {
		before := right.requests.Load()
		// Round robin sends one of every two requests to the misdirecting instance first.
		for range 4 {
			resp := s.do(http.MethodGet, "/api/v1/conferences/c1", nil, bearer(tok)...)
			require.Empty(t, resp.Header.Values(upstream.InstanceHeader))
			e := readEcho(t, resp)
			require.Equal(t, routing.ConferenceSvc, e.Service)
			require.Equal(t, "u1", e.Identity.UserID, "the re-sent request carries the identity")
		}
		require.Equal(t, int32(2), wrong.hits.Load())
		require.Equal(t, int32(4), right.requests.Load()-before)
	})

	t.Run("WebSocket", func(t *testing.T) {
		wrong.hits.Store(0)
		wsURL := "ws" + strings.TrimPrefix(s.gw.URL, "http") + "/api/v1/conferences/c1/ws?access_token=" + tok
		for range 2 {
			conn, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
			require.NoError(t, err)
			require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			require.Empty(t, resp.Header.Values(upstream.InstanceHeader))
			var e echo
			require.NoError(t, conn.ReadJSON(&e))
			require.Equal(t, "u1", e.Identity.UserID)
			require.NotContains(t, e.Query, "access_token")
			require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte("ping")))
			_, msg, err := conn.ReadMessage()
			require.NoError(t, err)
			require.Equal(t, "ping", string(msg))
			require.NoError(t, conn.Close())
		}
		require.Equal(t, int32(1), wrong.hits.Load())
	})

	t.Run("a request with a body is not repeated", func(t *testing.T) {
		wrong.hits.Store(0)
		before := right.requests.Load()
		misdirected := 0
		for range 2 {
			resp := s.do(http.MethodPatch, "/api/v1/conferences/c1", strings.NewReader(`{"title":"x"}`), bearer(tok)...)
			if resp.StatusCode == http.StatusMisdirectedRequest {
				misdirected++
				require.Empty(t, resp.Header.Values(upstream.InstanceHeader))
				requireError(t, resp, http.StatusMisdirectedRequest, "room_elsewhere")
				continue
			}
			readEcho(t, resp)
		}
		require.Equal(t, 1, misdirected)
		require.Equal(t, int32(1), wrong.hits.Load())
		require.Equal(t, int32(1), right.requests.Load()-before)
	})
}

func TestMisdirectedRequestIsReturned(t *testing.T) {
	cases := []struct {
		name string
		// names[i] is what instance i names in its 421.
		names     []string
		wantTotal int32
	}{
		{"unknown instance", []string{routing.ConferenceSvc + "-z"}, 1},
		{"named instance misdirects again", []string{confB, confA}, 2},
		{"instance names itself", []string{confA}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ms []*misdirector
			var addrs []string
			for _, n := range tc.names {
				m := newMisdirector(t, n)
				ms = append(ms, m)
				addrs = append(addrs, m.addr())
			}
			s := newStack(t, stackOptions{addrs: map[string]string{routing.ConferenceSvc: strings.Join(addrs, ",")}})
			tok := s.token(nil)
			hits := func() int32 {
				var n int32
				for _, m := range ms {
					n += m.hits.Swap(0)
				}
				return n
			}

			resp := s.do(http.MethodGet, "/api/v1/conferences/c1", nil, bearer(tok)...)
			require.Empty(t, resp.Header.Values(upstream.InstanceHeader))
			requireError(t, resp, http.StatusMisdirectedRequest, "room_elsewhere")
			require.Equal(t, tc.wantTotal, hits(), "followed at most once")

			wsURL := "ws" + strings.TrimPrefix(s.gw.URL, "http") + "/api/v1/conferences/c1/ws?access_token=" + tok
			_, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
			require.ErrorIs(t, err, websocket.ErrBadHandshake)
			defer resp.Body.Close()
			require.Empty(t, resp.Header.Values(upstream.InstanceHeader))
			requireError(t, resp, http.StatusMisdirectedRequest, "room_elsewhere")
			require.Equal(t, tc.wantTotal, hits(), "followed at most once")
		})
	}
}

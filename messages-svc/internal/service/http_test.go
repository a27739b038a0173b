package service_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHTTPMessages(t *testing.T) {
	e := newEnv(t, nil)
	in := e.start(t)
	alice, bob, eve := e.dir.user(t, "alice"), e.dir.user(t, "bob"), e.dir.user(t, "eve")
	chat := e.dir.chat(t, alice, bob)

	t.Run("send, retry returns the original", func(t *testing.T) {
		first := e.send(t, in, alice, chat, "hello", "c-1")
		require.Equal(t, float64(1), first["seq"])
		require.Equal(t, map[string]any{"id": alice, "username": "alice"}, first["sender"])
		require.Equal(t, "hello", first["text"])
		require.Equal(t, "c-1", first["client_msg_id"])
		require.Nil(t, first["edited_at"])
		require.Equal(t, false, first["deleted"])
		require.Equal(t, []any{}, first["read_by"])
		require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`, first["created_at"])

		code, again := e.do(t, in, alice, http.MethodPost, "/api/v1/chats/"+chat+"/messages", map[string]string{"text": "hello, retried", "client_msg_id": "c-1"})
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, first, again["message"])

		second := e.send(t, in, bob, chat, "hi alice", "c-1")
		require.Equal(t, float64(2), second["seq"], "client ids are per sender")
	})

	t.Run("history pages", func(t *testing.T) {
		for i := 3; i <= 7; i++ {
			e.send(t, in, alice, chat, "m", path("p-%d", i))
		}
		seqs := func(body map[string]any) []float64 {
			var out []float64
			for _, m := range body["items"].([]any) {
				out = append(out, m.(map[string]any)["seq"].(float64))
			}
			return out
		}
		for _, tc := range []struct {
			query  string
			seqs   []float64
			cursor string
		}{
			{"", []float64{7, 6, 5, 4, 3, 2, 1}, ""},
			{"?limit=3", []float64{7, 6, 5}, "5"},
			{"?limit=3&before_seq=5", []float64{4, 3, 2}, "2"},
			{"?limit=3&before_seq=2", []float64{1}, ""},
			{"?after_seq=0&limit=4", []float64{1, 2, 3, 4}, "4"},
			{"?after_seq=4&limit=4", []float64{5, 6, 7}, ""},
			{"?after_seq=7", nil, ""},
		} {
			code, body := e.do(t, in, bob, http.MethodGet, "/api/v1/chats/"+chat+"/messages"+tc.query, nil)
			require.Equal(t, http.StatusOK, code, tc.query)
			require.Equal(t, tc.seqs, seqs(body), tc.query)
			require.Equal(t, tc.cursor, body["next_cursor"], tc.query)
		}
	})

	t.Run("edit and delete by the sender only", func(t *testing.T) {
		m := e.send(t, in, alice, chat, "draft", "edit-1")
		msgPath := "/api/v1/chats/" + chat + "/messages/" + m["id"].(string)

		code, body := e.do(t, in, bob, http.MethodPatch, msgPath, map[string]string{"text": "bob was here"})
		require.Equal(t, http.StatusForbidden, code)
		require.Equal(t, "forbidden", body["error"].(map[string]any)["code"])
		code, _ = e.do(t, in, eve, http.MethodPatch, msgPath, map[string]string{"text": "eve was here"})
		require.Equal(t, http.StatusNotFound, code)

		code, body = e.do(t, in, alice, http.MethodPatch, msgPath, map[string]string{"text": "final"})
		require.Equal(t, http.StatusOK, code)
		edited := body["message"].(map[string]any)
		require.Equal(t, "final", edited["text"])
		require.NotNil(t, edited["edited_at"])
		require.Equal(t, m["seq"], edited["seq"])

		code, _ = e.do(t, in, bob, http.MethodDelete, msgPath, nil)
		require.Equal(t, http.StatusForbidden, code)
		code, _ = e.do(t, in, alice, http.MethodDelete, msgPath, nil)
		require.Equal(t, http.StatusNoContent, code)
		code, _ = e.do(t, in, alice, http.MethodDelete, msgPath, nil)
		require.Equal(t, http.StatusNoContent, code, "deleting again is a no-op")
		code, body = e.do(t, in, alice, http.MethodPatch, msgPath, map[string]string{"text": "revive"})
		require.Equal(t, http.StatusConflict, code)
		require.Equal(t, "message_deleted", body["error"].(map[string]any)["code"])

		code, body = e.do(t, in, bob, http.MethodGet, path("/api/v1/chats/%s/messages?after_seq=%v", chat, m["seq"].(float64)-1), nil)
		require.Equal(t, http.StatusOK, code)
		tomb := body["items"].([]any)[0].(map[string]any)
		require.Equal(t, true, tomb["deleted"])
		require.Equal(t, "", tomb["text"])
		require.Equal(t, m["seq"], tomb["seq"])
	})

	t.Run("read receipts move forward only", func(t *testing.T) {
		readPath := "/api/v1/chats/" + chat + "/read"
		code, _ := e.do(t, in, bob, http.MethodPost, readPath, map[string]int{"seq": 3})
		require.Equal(t, http.StatusNoContent, code)
		code, _ = e.do(t, in, bob, http.MethodPost, readPath, map[string]int{"seq": 1})
		require.Equal(t, http.StatusNoContent, code)
		code, body := e.do(t, in, alice, http.MethodGet, "/api/v1/chats/"+chat+"/messages?after_seq=0&limit=4", nil)
		require.Equal(t, http.StatusOK, code)
		items := body["items"].([]any)
		readBy := func(i int) any { return items[i].(map[string]any)["read_by"] }
		require.Equal(t, []any{bob}, readBy(0))
		require.Equal(t, []any{}, readBy(1), "bob's own message")
		require.Equal(t, []any{bob}, readBy(2))
		require.Equal(t, []any{}, readBy(3), "after bob's position")
	})

	t.Run("bad input is a 4xx that changes nothing", func(t *testing.T) {
		msgs := "/api/v1/chats/" + chat + "/messages"
		long := strings.Repeat("x", 10001)
		for _, tc := range []struct {
			name, user, method, path string
			body                     any
			status                   int
			code                     string
		}{
			{"no identity", "", http.MethodPost, msgs, map[string]string{"text": "x", "client_msg_id": "bad-1"}, 401, "unauthenticated"},
			{"malformed json", alice, http.MethodPost, msgs, `{"text":`, 400, "invalid_json"},
			{"not an object", alice, http.MethodPost, msgs, `["x"]`, 400, "invalid_json"},
			{"wrong type", alice, http.MethodPost, msgs, `{"text":5,"client_msg_id":"bad-2"}`, 400, "invalid_field"},
			{"missing text", alice, http.MethodPost, msgs, map[string]string{"client_msg_id": "bad-3"}, 400, "text_required"},
			{"blank text", alice, http.MethodPost, msgs, map[string]string{"text": "  ", "client_msg_id": "bad-4"}, 400, "text_required"},
			{"text too long", alice, http.MethodPost, msgs, map[string]string{"text": long, "client_msg_id": "bad-5"}, 400, "text_too_long"},
			{"missing client id", alice, http.MethodPost, msgs, map[string]string{"text": "x"}, 400, "client_msg_id_required"},
			{"client id too long", alice, http.MethodPost, msgs, map[string]string{"text": "x", "client_msg_id": strings.Repeat("c", 65)}, 400, "client_msg_id_too_long"},
			{"body too large", alice, http.MethodPost, msgs, `{"text":"` + strings.Repeat("x", 70000) + `","client_msg_id":"bad-6"}`, 413, "body_too_large"},
			{"malformed chat id", alice, http.MethodPost, "/api/v1/chats/not-a-uuid/messages", map[string]string{"text": "x", "client_msg_id": "bad-7"}, 404, "not_found"},
			{"unknown chat", alice, http.MethodPost, "/api/v1/chats/" + e.dir.user(t, "nobody") + "/messages", map[string]string{"text": "x", "client_msg_id": "bad-8"}, 404, "not_found"},
			{"non-member sends", eve, http.MethodPost, msgs, map[string]string{"text": "x", "client_msg_id": "bad-9"}, 404, "not_found"},
			{"non-member reads", eve, http.MethodGet, msgs, nil, 404, "not_found"},
			{"limit over 200", alice, http.MethodGet, msgs + "?limit=201", nil, 400, "invalid_limit"},
			{"limit zero", alice, http.MethodGet, msgs + "?limit=0", nil, 400, "invalid_limit"},
			{"limit not a number", alice, http.MethodGet, msgs + "?limit=ten", nil, 400, "invalid_limit"},
			{"both cursors", alice, http.MethodGet, msgs + "?after_seq=1&before_seq=5", nil, 400, "conflicting_cursors"},
			{"negative after", alice, http.MethodGet, msgs + "?after_seq=-1", nil, 400, "invalid_after_seq"},
			{"zero before", alice, http.MethodGet, msgs + "?before_seq=0", nil, 400, "invalid_before_seq"},
			{"malformed message id", alice, http.MethodPatch, msgs + "/nope", map[string]string{"text": "x"}, 404, "not_found"},
			{"unknown message id", alice, http.MethodDelete, msgs + "/" + chat, nil, 404, "not_found"},
			{"edit to empty", alice, http.MethodPatch, msgs + "/" + chat, map[string]string{"text": ""}, 400, "text_required"},
			{"read seq zero", alice, http.MethodPost, "/api/v1/chats/" + chat + "/read", map[string]int{"seq": 0}, 400, "invalid_seq"},
			{"read past the end", alice, http.MethodPost, "/api/v1/chats/" + chat + "/read", map[string]int{"seq": 1000}, 400, "invalid_seq"},
			{"read seq as string", alice, http.MethodPost, "/api/v1/chats/" + chat + "/read", `{"seq":"3"}`, 400, "invalid_field"},
			{"read by non-member", eve, http.MethodPost, "/api/v1/chats/" + chat + "/read", map[string]int{"seq": 1}, 404, "not_found"},
		} {
			code, body := e.do(t, in, tc.user, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, code, "%s: %v", tc.name, body)
			require.Equal(t, tc.code, body["error"].(map[string]any)["code"], tc.name)
			require.NotEmpty(t, body["error"].(map[string]any)["message"], tc.name)
		}
		code, body := e.do(t, in, alice, http.MethodGet, msgs+"?limit=1", nil)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, float64(8), body["items"].([]any)[0].(map[string]any)["seq"], "no bad request stored a message")
	})
}

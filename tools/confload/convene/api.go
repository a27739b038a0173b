package convene

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// apiClient calls the public API through the gateway.
type apiClient struct {
	base string
	http *http.Client
}

type account struct {
	id, name, email, token string
	loggedIn               time.Time
}

const password = "load-test-password"

func (c *apiClient) call(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%w: %s %s: %d %s", ErrAPI, method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// newAccount registers and logs in a fresh user.
func (c *apiClient) newAccount(ctx context.Context) (*account, error) {
	name := "load_" + randomHex(5)
	a := &account{name: name, email: name + "@example.test"}
	var reg struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
		"username": name, "email": a.email, "password": password,
	}, &reg); err != nil {
		return nil, err
	}
	a.id = reg.User.ID
	return a, c.login(ctx, a)
}

func (c *apiClient) login(ctx context.Context, a *account) error {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/auth/login", "", map[string]string{
		"login": a.name, "password": password,
	}, &tok); err != nil {
		return err
	}
	a.token, a.loggedIn = tok.AccessToken, time.Now()
	return nil
}

// newTeam makes users[0] the admin of a team holding every user.
func (c *apiClient) newTeam(ctx context.Context, users []*account) (string, error) {
	var team struct {
		Team struct {
			ID string `json:"id"`
		} `json:"team"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/teams", users[0].token, map[string]string{"name": "confload"}, &team); err != nil {
		return "", err
	}
	for _, u := range users[1:] {
		if err := c.call(ctx, http.MethodPost, "/api/v1/teams/"+team.Team.ID+"/members", users[0].token,
			map[string]string{"email": u.email}, nil); err != nil {
			return "", err
		}
	}
	return team.Team.ID, nil
}

// newConference schedules a conference without a waiting room, so that "join" admits at once.
func (c *apiClient) newConference(ctx context.Context, team string, host *account) (string, error) {
	var conf struct {
		Conference struct {
			ID string `json:"id"`
		} `json:"conference"`
	}
	err := c.call(ctx, http.MethodPost, "/api/v1/teams/"+team+"/conferences", host.token, map[string]any{
		"title": "confload", "starts_at": time.Now().UTC().Format(time.RFC3339), "waiting_room": false,
	}, &conf)
	return conf.Conference.ID, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

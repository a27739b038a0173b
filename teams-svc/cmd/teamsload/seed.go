package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// state is what seed leaves for read and membership.
type state struct {
	TeamID  string   `json:"team_id"`
	UserIDs []string `json:"user_ids"`
	Tokens  []string `json:"tokens"`
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	gateway := fs.String("gateway", "http://127.0.0.1:8080", "gateway URL")
	dbURL := fs.String("db", "", "teams-svc's Postgres URL")
	posts := fs.Int("posts", 100_000, "posts to insert")
	users := fs.Int("users", 20, "team members (post authors and readers)")
	out := fs.String("out", "teamsload-state.json", "where to write the state")
	_ = fs.Parse(args)
	if *dbURL == "" {
		return fmt.Errorf("-db is required")
	}
	ctx := context.Background()
	c := &api{base: *gateway, http: &http.Client{Timeout: 30 * time.Second}}

	var st state
	suffix := uuid.NewString()[:8]
	for i := range *users {
		name := fmt.Sprintf("bench%d_%s", i, suffix)
		var reg struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		body := map[string]string{"username": name, "email": name + "@bench.test", "password": "correct horse battery"}
		if err := c.call("POST", "/api/v1/auth/register", "", body, http.StatusCreated, &reg); err != nil {
			return err
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := c.call("POST", "/api/v1/auth/login", "", map[string]string{"login": name, "password": body["password"]}, http.StatusOK, &tok); err != nil {
			return err
		}
		st.UserIDs = append(st.UserIDs, reg.User.ID)
		st.Tokens = append(st.Tokens, tok.AccessToken)
	}
	var team struct {
		Team struct {
			ID string `json:"id"`
		} `json:"team"`
	}
	if err := c.call("POST", "/api/v1/teams", st.Tokens[0], map[string]string{"name": "benchmark"}, http.StatusCreated, &team); err != nil {
		return err
	}
	st.TeamID = team.Team.ID
	for i := 1; i < *users; i++ {
		email := fmt.Sprintf("bench%d_%s@bench.test", i, suffix)
		if err := c.call("POST", "/api/v1/teams/"+st.TeamID+"/members", st.Tokens[0], map[string]string{"email": email}, http.StatusCreated, nil); err != nil {
			return err
		}
	}

	conn, err := pgx.Connect(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	start := time.Now()
	rows := make([][]any, *posts)
	for i := range rows {
		// UUIDv7 ids are generated in order, so id order is creation order, as in the service.
		now := time.Now().UTC()
		rows[i] = []any{uuid.Must(uuid.NewV7()).String(), st.TeamID, st.UserIDs[i%len(st.UserIDs)],
			fmt.Sprintf("benchmark post %d: %s", i, "the quick brown fox jumps over the lazy dog"), int64(0), now}
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"posts"},
		[]string{"id", "team_id", "author_id", "text", "comment_count", "created_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "ANALYZE posts"); err != nil {
		return err
	}
	fmt.Printf("seeded team %s: %d members, %d posts in %s\n", st.TeamID, len(st.UserIDs), n, time.Since(start).Round(time.Millisecond))

	// The plan of the list query (the one the repository sends) half-way down the team's
	// posts: an index range scan on posts_team_id that stops after one page.
	middle := rows[len(rows)/2][0].(string)
	plan, err := conn.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM "posts" WHERE team_id = $1 AND id < $2 ORDER BY id DESC LIMIT 51`, st.TeamID, middle)
	if err != nil {
		return err
	}
	fmt.Println("query plan of one page, half-way down:")
	for plan.Next() {
		var line string
		if err := plan.Scan(&line); err != nil {
			return err
		}
		fmt.Println("  " + line)
	}
	if err := plan.Err(); err != nil {
		return err
	}

	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, raw, 0o600)
}

// api calls the gateway.
type api struct {
	base string
	http *http.Client
}

func (a *api) call(method, path, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func loadState(path string) (state, error) {
	var st state
	raw, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(raw, &st)
}

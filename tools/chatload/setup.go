package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// account is a logged-in user.
type account struct {
	ID    string
	Name  string
	Email string
	Token string
}

type api struct {
	base string
	http *http.Client
}

// call sends a request, retrying with backoff while the answer says "busy" (429, 5xx):
// creating thousands of accounts saturates users-svc's password hashing, and a retried
// registration that had succeeded answers 409, which counts as done.
func (a *api) call(ctx context.Context, method, path, token string, body, out any) (int, error) {
	backoff := 200 * time.Millisecond
	for attempt := 0; ; attempt++ {
		code, err := a.once(ctx, method, path, token, body, out)
		if err == nil || attempt == 8 || (code != http.StatusTooManyRequests && code < 500 && code != 0) {
			return code, err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return code, ctx.Err()
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (a *api) once(ctx context.Context, method, path, token string, body, out any) (int, error) {
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusConflict {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, nil
}

// account registers (or, when it exists from an earlier run, just logs in) user i.
func (a *api) account(ctx context.Context, prefix string, i int) (account, error) {
	acc := account{Name: fmt.Sprintf("%s_%d", prefix, i)}
	acc.Email = acc.Name + "@load.test"
	const password = "load-test-password"
	if _, err := a.call(ctx, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
		"username": acc.Name, "email": acc.Email, "password": password,
	}, nil); err != nil {
		return acc, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if _, err := a.call(ctx, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"login": acc.Name, "password": password}, &tok); err != nil {
		return acc, err
	}
	acc.ID, acc.Token = tok.User.ID, tok.AccessToken
	return acc, nil
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
loop:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break loop
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// setup creates the users and the chats; chat j holds users j*K .. j*K+K-1.
func setup(ctx context.Context, p Params, a *api, log io.Writer) ([]account, [][]int, []string, error) {
	start := time.Now()
	users := make([]account, p.Users)
	err := parallel(ctx, p.Users, p.Concurrency, func(ctx context.Context, i int) error {
		acc, err := a.account(ctx, p.Prefix, i)
		users[i] = acc
		return err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: users: %v", errSetup, err)
	}
	fmt.Fprintf(log, "users ready: %d in %s\n", len(users), time.Since(start).Round(time.Millisecond))
	nChats := p.Users / p.ChatSize
	members := make([][]int, nChats)
	chats := make([]string, nChats)
	start = time.Now()
	err = parallel(ctx, nChats, p.Concurrency, func(ctx context.Context, j int) error {
		var emails []string
		for k := range p.ChatSize {
			members[j] = append(members[j], j*p.ChatSize+k)
			if k > 0 {
				emails = append(emails, users[j*p.ChatSize+k].Email)
			}
		}
		var out struct {
			Chat struct {
				ID string `json:"id"`
			} `json:"chat"`
		}
		owner := users[j*p.ChatSize]
		if _, err := a.call(ctx, http.MethodPost, "/api/v1/chats", owner.Token, map[string]any{"title": fmt.Sprint("load ", j), "member_emails": emails}, &out); err != nil {
			return err
		}
		chats[j] = out.Chat.ID
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: chats: %v", errSetup, err)
	}
	fmt.Fprintf(log, "chats ready: %d of %d members in %s\n", nChats, p.ChatSize, time.Since(start).Round(time.Millisecond))
	return users, members, chats, nil
}

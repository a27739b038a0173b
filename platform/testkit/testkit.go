// Package testkit gives tests the real dependencies `make test` starts: a fresh Postgres
// database per test, the Redis server and the Consul agent. Without them a test fails with
// a clear message rather than skipping silently, unless CONVENE_TEST_SKIP_INFRA=1 is set.
package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the Postgres driver for the admin connection
)

// PostgresAdminURL is the server that holds the test databases.
func PostgresAdminURL() string {
	if v := os.Getenv("TEST_POSTGRES_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is the test Redis server.
func RedisURL() string {
	if v := os.Getenv("TEST_REDIS_URL"); v != "" {
		return v
	}
	return "redis://127.0.0.1:6379/0"
}

// ConsulAddr is the test Consul agent (started by `make test`).
func ConsulAddr() string {
	if v := os.Getenv("TEST_CONSUL_HTTP_ADDR"); v != "" {
		return v
	}
	return "127.0.0.1:8500"
}

// NewPostgresDB creates an empty database for one test and drops it afterwards; it returns
// the database's URL.
func NewPostgresDB(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminURL()
	requireReachable(t, "Postgres", admin)
	conn, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("testkit: postgres: %v", err)
	}
	defer conn.Close()
	name := "test_" + RandomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testkit: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = c.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// RequireRedis fails the test when the Redis server is not reachable and returns its URL.
func RequireRedis(t testing.TB) string {
	t.Helper()
	requireReachable(t, "Redis", RedisURL())
	return RedisURL()
}

// RequireConsul fails the test when the Consul agent is not reachable and returns its address.
func RequireConsul(t testing.TB) string {
	t.Helper()
	requireReachable(t, "Consul", "http://"+ConsulAddr())
	return ConsulAddr()
}

func requireReachable(t testing.TB, what, rawURL string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("testkit: %s url %q: %v", what, rawURL, err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		if os.Getenv("CONVENE_TEST_SKIP_INFRA") == "1" {
			t.Skipf("%s not reachable at %s (CONVENE_TEST_SKIP_INFRA=1)", what, u.Host)
		}
		t.Fatalf("testkit: %s not reachable at %s: run the tests with `make test`, which starts it", what, u.Host)
	}
	c.Close()
}

// RandomHex returns n random bytes as hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Secret is the internal secret tests share with the processes they start.
const Secret = "convene-test-internal-secret-0123456789"

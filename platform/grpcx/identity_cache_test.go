package grpcx

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/convene/convene/platform/authn"
	"github.com/convene/convene/platform/testkit"
	"github.com/convene/convene/platform/tracing"
)

func TestVerifiedIdentities(t *testing.T) {
	signer := authn.NewSigner(testkit.Secret)
	valid := signer.Sign(authn.Identity{UserID: "u1", Username: "ann"})
	forged := authn.NewSigner("some-other-secret-1234567").Sign(authn.Identity{UserID: "u1"})
	now := time.Now()
	cases := []struct {
		name string
		// cached is put in the cache before the call, as if verified earlier.
		cached  map[string]authn.Identity
		token   string
		wantErr bool
		wantID  string
	}{
		{name: "valid token", token: valid, wantID: "u1"},
		{name: "forged token", token: forged, wantErr: true},
		{name: "garbage", token: "not-a-token", wantErr: true},
		{
			name:   "cached and unexpired: served without verifying",
			cached: map[string]authn.Identity{"opaque": {UserID: "u2", Expires: now.Add(time.Minute).Unix()}},
			token:  "opaque", wantID: "u2",
		},
		{
			name:   "cached but expired: verified again, and refused",
			cached: map[string]authn.Identity{"opaque": {UserID: "u2", Expires: now.Add(-time.Second).Unix()}},
			token:  "opaque", wantErr: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newVerifiedIdentities(signer)
			c.now = func() time.Time { return now }
			for k, v := range tc.cached {
				c.m[k] = v
			}
			id, err := c.Verify(tc.token)
			if tc.wantErr {
				require.ErrorIs(t, err, authn.ErrInvalid)
				require.NotContains(t, c.m, tc.token, "a refused token is not remembered")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantID, id.UserID)
			require.Contains(t, c.m, tc.token)
		})
	}
}

func TestVerifiedIdentitiesBounded(t *testing.T) {
	signer := authn.NewSigner(testkit.Secret)
	c := newVerifiedIdentities(signer)
	for i := range identityCacheSize + 100 {
		_, err := c.Verify(signer.Sign(authn.Identity{UserID: "u", TokenID: string(rune('a'+i%26)) + time.Duration(i).String()}))
		require.NoError(t, err)
	}
	require.Len(t, c.m, identityCacheSize)
}

func TestSignedIdentitiesReuseForHalfTheLifetime(t *testing.T) {
	signer := authn.NewSigner(testkit.Secret)
	c := newSignedIdentities(signer)
	now := time.Now()
	c.now = func() time.Time { return now }
	ann := authn.Identity{UserID: "u1", Username: "ann"}

	first := c.Sign(ann)
	got, err := signer.Verify(first)
	require.NoError(t, err)
	require.Equal(t, "ann", got.Username)
	require.Equal(t, first, c.Sign(authn.Identity{UserID: "u1", Username: "ann", Expires: 42}), "Expires is not part of the key")
	require.NotEqual(t, first, c.Sign(authn.Identity{UserID: "u2"}), "another identity, another token")

	require.Equal(t, now.Add(tokenReuse), c.m[ann].renewAt)
	now = now.Add(tokenReuse + time.Second)
	renewed := c.Sign(ann)
	require.Equal(t, now.Add(tokenReuse), c.m[ann].renewAt, "signed anew after half the lifetime")
	_, err = signer.Verify(renewed)
	require.NoError(t, err)
}

func TestTraceSetupLeanOnlyWithoutExport(t *testing.T) {
	off, err := tracing.New(context.Background(), tracing.Params{Service: "probe-svc"})
	require.NoError(t, err)
	on, err := tracing.New(context.Background(), tracing.Params{Service: "probe-svc", Exporter: tracetest.NewInMemoryExporter(), SampleRatio: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = on.Shutdown(context.Background()) })

	require.True(t, newTraceSetup(off).lean, "export off: lean interceptors")
	require.False(t, newTraceSetup(on).lean, "export on: otelgrpc")
	require.False(t, records(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))))
	require.True(t, records(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))))),
		"a ratio sampler records sampled parents' spans")
}

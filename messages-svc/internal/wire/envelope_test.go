package wire

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, e := range []Envelope{
		{ChatID: "chat", Seq: 42, Recipients: []string{"u1", "u2"}, Frame: []byte(`{"type":"message"}`)},
		{Recipients: []string{"u1"}, Frame: []byte(`{"type":"typing","x":"a\nb"}`)},
	} {
		got, err := DecodeEnvelope(EncodeEnvelope(e))
		require.NoError(t, err)
		require.Equal(t, e, got)
	}
}

func TestDecodeEnvelopeRejectsMalformed(t *testing.T) {
	for _, p := range []string{
		"", "no newline", "1 chat u1\n", "x chat u1\n{}", "-1 chat u1\n{}", "5  u1\n{}", "5\n{}",
		"5 chat\n{}", "5 chat \n{}", "5 chat u1,,u2\n{}", "5 chat u1,\n{}",
	} {
		_, err := DecodeEnvelope([]byte(p))
		require.ErrorIs(t, err, ErrBadEnvelope, p)
	}
}

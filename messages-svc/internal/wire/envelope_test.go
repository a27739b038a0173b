package wire

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, e := range []Envelope{
		{ChatID: "chat", Seq: 42, Frame: []byte(`{"type":"message"}`)},
		{Frame: []byte(`{"type":"typing","x":"a\nb"}`)},
	} {
		got, err := DecodeEnvelope(EncodeEnvelope(e))
		require.NoError(t, err)
		require.Equal(t, e, got)
	}
}

func TestDecodeEnvelopeRejectsMalformed(t *testing.T) {
	for _, p := range []string{"", "no newline", "1 chat\n", "x chat\n{}", "-1 chat\n{}", "5 \n{}", "5\n{}"} {
		_, err := DecodeEnvelope([]byte(p))
		require.ErrorIs(t, err, ErrBadEnvelope, p)
	}
}

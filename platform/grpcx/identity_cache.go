package grpcx

import (
	"sync"
	"time"

	"github.com/convene/convene/platform/authn"
)

// identityCacheSize bounds the verified tokens a server remembers. A token lives two
// minutes and a calling process reuses one per identity (see signedIdentities), so a few
// thousand cover every caller of a busy instance.
const identityCacheSize = 4096

// verifiedIdentities remembers tokens whose signature checked out, so that the many calls
// a caller makes with one token pay for the HMAC and the JSON decoding once. An entry is
// used only until the token's own expiry; when full, an arbitrary entry makes room (map
// iteration order), which keeps the cache bounded without bookkeeping on every hit.
type verifiedIdentities struct {
	signer *authn.Signer
	now    func() time.Time
	mu     sync.RWMutex
	m      map[string]authn.Identity
}

func newVerifiedIdentities(signer *authn.Signer) *verifiedIdentities {
	return &verifiedIdentities{signer: signer, now: time.Now, m: make(map[string]authn.Identity)}
}

// Verify is signer.Verify, answered from the cache when token was verified before and has
// not expired.
func (c *verifiedIdentities) Verify(token string) (authn.Identity, error) {
	now := c.now().Unix()
	c.mu.RLock()
	id, ok := c.m[token]
	c.mu.RUnlock()
	if ok {
		if now <= id.Expires {
			return id, nil
		}
		c.mu.Lock()
		delete(c.m, token)
		c.mu.Unlock()
	}
	id, err := c.signer.Verify(token)
	if err != nil {
		return id, err
	}
	c.mu.Lock()
	if len(c.m) >= identityCacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[token] = id
	c.mu.Unlock()
	return id, nil
}

// signedIdentities is the client's side of the same saving: it signs each identity once
// and reuses the token for half its lifetime, so that a token on the wire always has at
// least a minute left (more than any call's deadline).
type signedIdentities struct {
	signer *authn.Signer
	now    func() time.Time
	mu     sync.RWMutex
	m      map[authn.Identity]signedToken
}

type signedToken struct {
	token   string
	renewAt time.Time
}

// tokenReuse is how long a signed token is reused: half of authn's two-minute lifetime.
const tokenReuse = time.Minute

func newSignedIdentities(signer *authn.Signer) *signedIdentities {
	return &signedIdentities{signer: signer, now: time.Now, m: make(map[authn.Identity]signedToken)}
}

// Sign returns a token for id (whose Expires is ignored: Sign sets it).
func (c *signedIdentities) Sign(id authn.Identity) string {
	id.Expires = 0
	now := c.now()
	c.mu.RLock()
	t, ok := c.m[id]
	c.mu.RUnlock()
	if ok && now.Before(t.renewAt) {
		return t.token
	}
	token := c.signer.Sign(id)
	c.mu.Lock()
	if len(c.m) >= identityCacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = signedToken{token: token, renewAt: now.Add(tokenReuse)}
	c.mu.Unlock()
	return token
}

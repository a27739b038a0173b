package service_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/convene/convene/platform/authn"
)

// BenchmarkListPosts measures one page of GET /teams/{id}/posts served in-process (no
// gateway), warm caches; scripts/bench-teams.sh measures the whole path.
func BenchmarkListPosts(b *testing.B) {
	h := start(b, options{})
	a := h.users.add("alice")
	teamID, _ := h.createTeam(a)
	for i := range 60 {
		h.post(a, teamID, fmt.Sprint("post ", i))
	}
	req, err := http.NewRequest("GET", h.base+"/api/v1/teams/"+teamID+"/posts", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set(authn.Header, signer.Sign(authn.Identity{UserID: a.ID}))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}

package app

import "context"

// livePage is how many live conference ids one query reads.
const livePage = 500

// LiveConferences returns the ids of every live conference: the rooms some instance should
// be hosting. The placement sweeper checks them against the instances that are alive.
func (a *App) LiveConferences(ctx context.Context) ([]string, error) {
	var out []string
	after := ""
	for {
		ids, err := a.confs.ListLive(ctx, after, livePage)
		if err != nil {
			return nil, err
		}
		out = append(out, ids...)
		if len(ids) < livePage {
			return out, nil
		}
		after = ids[len(ids)-1]
	}
}

package findex

import (
	"context"
	"fmt"
	"strconv"

	"dealerdesk/app/auth"
	"dealerdesk/search"
)

// Hit is one search result as the UI shows it.
type Hit struct {
	ID       string `json:"id"` // "<kind>:<id>"
	Kind     string `json:"kind"`
	EntityID int64  `json:"entityId"`
	Title    string `json:"title"`
	Subtitle string `json:"subtitle"`
	Link     string `json:"link"` // UI route, e.g. /crm/customers/42; "" when the kind has none
}

// Result is the answer to a search.
type Result struct {
	Items []Hit `json:"items"`
	Total int   `json:"total"`
	// Rebuilding is true while the index is being rebuilt: results may be
	// incomplete (or empty, when the old index could not be used).
	Rebuilding bool `json:"rebuilding"`
}

// Search finds text among the records the actor may read: each registered kind
// whose permission the actor holds, within the actor's data scope.
func (s *Service) Search(ctx context.Context, a auth.Actor, text string, limit int) (Result, error) {
	res := Result{Items: []Hit{}, Rebuilding: s.Rebuilding()}
	scopes := map[string]search.Scope{}
	links := map[string]string{}
	s.mu.RLock()
	for name, k := range s.kinds {
		if a.Has(k.perm) {
			scopes[name] = Scope(a)
			if k.storeWide && (a.Scope == auth.ScopeOwn || a.Scope == auth.ScopeTeam) {
				scopes[name] = search.Scope{StoreIDs: []int64{a.HomeStoreID}}
			}
			links[name] = k.link
		}
	}
	s.mu.RUnlock()
	ix := s.index()
	if ix == nil || len(scopes) == 0 {
		return res, nil
	}
	hits, total, err := ix.Search(ctx, search.Query{Text: text, Scopes: scopes, Limit: limit})
	if err != nil {
		return res, fmt.Errorf("findex: search: %w", err)
	}
	res.Total = total
	for _, h := range hits {
		_, idStr := splitID(h.ID)
		id, _ := strconv.ParseInt(idStr, 10, 64)
		link := ""
		if f := links[h.Kind]; f != "" && id > 0 {
			link = fmt.Sprintf(f, id)
		}
		res.Items = append(res.Items, Hit{ID: h.ID, Kind: h.Kind, EntityID: id, Title: h.Title, Subtitle: h.Subtitle, Link: link})
	}
	return res, nil
}

// Scope is the actor's data scope as a search filter, the same records
// auth.Filter lets SQL lists return (for a table with store, owner and
// department columns):
//
//	group: everything
//	store: store = home store
//	team:  owner = user, or (store = home store and department = user's department) when the user has one
//	own:   owner = user
//
// An unknown scope sees nothing. The permission is checked by the caller.
func Scope(a auth.Actor) search.Scope {
	switch a.Scope {
	case auth.ScopeGroup:
		return search.Scope{All: true}
	case auth.ScopeStore:
		return search.Scope{StoreIDs: []int64{a.HomeStoreID}}
	case auth.ScopeTeam:
		sc := search.Scope{OwnerID: a.UserID}
		if a.DepartmentID != 0 {
			sc.TeamStoreID, sc.TeamDepartmentID = a.HomeStoreID, a.DepartmentID
		}
		return sc
	case auth.ScopeOwn:
		return search.Scope{OwnerID: a.UserID}
	}
	return search.Scope{}
}

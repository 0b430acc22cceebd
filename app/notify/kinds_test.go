package notify_test

import (
	"testing"

	"dealerdesk/app/httpapi"
	"dealerdesk/app/notify"
)

// TestKinds_LabelledInBothLanguages: the preferences page and the notification
// centre name every registered kind, group and level in both languages.
func TestKinds_LabelledInBothLanguages(t *testing.T) {
	t.Parallel()
	cat, err := httpapi.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range notify.Kinds {
		if seen[k.Code] {
			t.Errorf("kind %s registered twice", k.Code)
		}
		seen[k.Code] = true
		for _, loc := range httpapi.Locales {
			for _, key := range []string{"notify.kind." + k.Code, "notify.group." + k.Group} {
				if !cat.Has(loc, key) {
					t.Errorf("%s: no label %s", loc, key)
				}
			}
		}
	}
	for _, loc := range httpapi.Locales {
		for _, lv := range []string{notify.LevelInfo, notify.LevelWarning, notify.LevelUrgent} {
			if !cat.Has(loc, "notify.level."+lv) {
				t.Errorf("%s: no label notify.level.%s", loc, lv)
			}
		}
	}
}

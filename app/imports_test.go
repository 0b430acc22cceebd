package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// layer ranks the packages: a package may import only packages of a lower or equal
// rank listed as allowed, never a higher one (see app/doc.go).
var layer = map[string]int{
	"dealerdesk/search": 0, "dealerdesk/backup": 0, "dealerdesk/embedui": 0,
	"dealerdesk/app/apperr": 1, "dealerdesk/app/clock": 1, "dealerdesk/app/config": 1, "dealerdesk/app/pii": 1, "dealerdesk/app/sheet": 1,
	"dealerdesk/app/db": 2, "dealerdesk/app/jobs": 2,
	"dealerdesk/app/audit": 3,
	"dealerdesk/app/auth":  4,
	"dealerdesk/app/api":   5,
	"dealerdesk/app/org":   6, "dealerdesk/app/attach": 6, "dealerdesk/app/notify": 6, "dealerdesk/app/approval": 6,
	"dealerdesk/app/timeline": 6, "dealerdesk/app/task": 6, "dealerdesk/app/findex": 6,
	"dealerdesk/app/system": 7, "dealerdesk/app/inventory": 7, "dealerdesk/app/crm": 7, "dealerdesk/app/sales": 7, // domains sit beside system
	"dealerdesk/app/sales/sop": 7, "dealerdesk/app/sales/testdrive": 7, "dealerdesk/app/sales/order": 7, "dealerdesk/app/sales/tradein": 7,
	"dealerdesk/app/demo":    8,
	"dealerdesk/app/httpapi": 9,
	"dealerdesk/app":         10,
	"dealerdesk/app/cli":     11,
	"dealerdesk":             12,
}

// TestImportDirection fails when a package imports one above it, or when a new
// package is added without a place in the layering.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "dealerdesk/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		if strings.HasPrefix(pkg, "dealerdesk/app/apptest") || strings.HasPrefix(pkg, "dealerdesk/app/e2e") || strings.HasPrefix(pkg, "dealerdesk/app/crashtest") {
			continue // test harnesses may import anything
		}
		rank, ok := layer[pkg]
		if !ok {
			t.Errorf("package %s has no place in the import layering (app/imports_test.go, app/doc.go)", pkg)
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if !strings.HasPrefix(imp, "dealerdesk") {
				continue
			}
			checked++
			if r, ok := layer[imp]; ok && r > rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports go downward only", pkg, rank, imp, r)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d internal imports checked; go list output not understood", checked)
	}
}

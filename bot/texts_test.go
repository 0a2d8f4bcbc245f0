package bot

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// TestEveryMessageIDExists reads the bot's source for the message IDs it
// renders — the literal IDs given to t and sayT, the menu labels, the
// commands' descriptions and the IDs built from a prefix — and checks each
// is defined in Kazakh and in Russian, so a typo cannot reach a user as a
// bare ID on a path no conversation test takes.
func TestEveryMessageIDExists(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	ids := map[string]string{} // id → where
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "sender") || strings.HasPrefix(f, "notice") || strings.HasPrefix(f, "receipt") {
			continue // other areas' files, with their own message files
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "t" && sel.Sel.Name != "sayT") || len(call.Args) < 2 {
				return true
			}
			switch a := call.Args[1].(type) {
			case *ast.BasicLit:
				id, _ := strconv.Unquote(a.Value)
				ids[id] = fset.Position(a.Pos()).String()
			case *ast.BinaryExpr: // id+"_locked", "cmd_"+c
				if l, ok := a.X.(*ast.BasicLit); ok && l.Value == `"cmd_"` {
					for _, c := range commandList {
						ids["cmd_"+c] = fset.Position(a.Pos()).String()
					}
				}
			}
			return true
		})
	}
	for _, row := range menuRows {
		for _, item := range row {
			ids[item.label] = "menuRows"
		}
	}
	for _, id := range []string{"phone_unknown", "iin_no_match"} { // linkFailed adds "_locked"
		ids[id+"_locked"] = "linkFailed"
	}
	b := &Bot{}
	for _, code := range []string{"consent_required", "family_frozen", "insufficient_funds", "deadline_passed", "forbidden", "not_found", "conflict", "outside_program", "other"} {
		ids[b.errorText(wallet.Errorf(wallet.Code(code), "x"))] = "errorText"
	}
	ids[consentTextID("2026-01")] = "consentTextID"
	if len(ids) < 100 {
		t.Fatalf("found only %d message IDs in the source; the scan is broken", len(ids))
	}
	loc := locales.MustLoad()
	for _, lang := range locales.Langs {
		have := loc.IDs(lang)
		for id, where := range ids {
			if !slices.Contains(have, id) {
				t.Errorf("%s: message %q is not defined in %s", where, id, lang)
			}
		}
	}
}

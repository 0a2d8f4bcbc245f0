package wallet

import (
	"strings"
	"unicode/utf8"
)

// ShortName turns a registry name "Surname Given Patronymic" into "Given S." —
// enough for a cashier to greet a person, not enough to identify them.
func ShortName(full string) string {
	parts := strings.Fields(full)
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	r, _ := utf8.DecodeRuneInString(parts[0])
	return parts[1] + " " + string(r) + "."
}

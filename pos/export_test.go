package pos

import "sort"

// ProblemCodes lists every problem code the server answers with (for the
// test that holds openapi.yaml to them).
func ProblemCodes() []string {
	out := make([]string, 0, len(problems))
	for c := range problems {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// ProblemStatus is the HTTP status of a problem code.
func ProblemStatus(code string) int { return problems[code].status }

package main

import "context"

// wirePOS adds the pos part to serve. (Filled in by its issue.)
func wirePOS(ctx context.Context, d *deps) error { return nil }

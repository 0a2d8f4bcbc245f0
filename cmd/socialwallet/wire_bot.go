package main

import "context"

// wireBot adds the bot part to serve. (Filled in by its issue.)
func wireBot(ctx context.Context, d *deps) error { return nil }

package main

import "context"

// wireJobs adds the jobs part to serve. (Filled in by its issue.)
func wireJobs(ctx context.Context, d *deps) error { return nil }

// Command socialwallet is the one binary of the social wallet: the bot, the
// cashier API and the jobs (serve), the sandbox, and the operator's commands.
// It is the only package that wires the adapters together.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		os.Exit(exitCode(err))
	}
}

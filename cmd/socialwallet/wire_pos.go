package main

import (
	"context"

	"socialwallet/pos"
	rstore "socialwallet/store/redis"
)

// redisKeys prefixes this service's keys in Redis. The bot writes the 8-digit
// fallback codes under it (rstore.NewCodes(d.redis, redisKeys)) and the
// cashier API reads them there, so both wirings must use it.
const redisKeys = "sw:"

// wirePOS mounts the cashier API under /v1: merchants authenticated by the
// hash of their key, typed codes resolved through Redis and limited per
// merchant, the wallet's purchase use cases behind it.
func wirePOS(ctx context.Context, d *deps) error {
	api := pos.New(pos.Config{
		Wallet:  d.service,
		Codes:   rstore.NewCodes(d.redis, redisKeys),
		Limiter: rstore.NewCodeLimiter(d.redis, redisKeys),
		Log:     d.log.With("part", "pos"),
	})
	d.mux.Handle("/v1/", api)
	return api.RegisterMetrics(d.metrics)
}

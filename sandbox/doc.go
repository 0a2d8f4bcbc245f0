// Package sandbox owns what `socialwallet sandbox` puts around the real
// service so that a person can try it without Telegram, a registry or a
// store: a private PostgreSQL cluster started from the machine's server
// programs, an embedded Redis, a programme covering the current month, a
// seeded demo registry, catalogue and stores, and the pages — a web chat that
// plays Telegram users on the fake Bot API (bot/telegramtest), a cashier page
// that calls the real cashier API with a demo store's key, and time controls
// that move the service's clock. It wires nothing itself: cmd/socialwallet
// does, with the same wiring serve uses.
package sandbox

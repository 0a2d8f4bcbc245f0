// Package e2e holds end-to-end tests of the recipient's conversation: the
// real bot (go-telegram-bot-api over HTTP) against bot/telegramtest, on the
// real PostgreSQL store and Redis, with a fake clock. It has no code of its
// own outside tests.
package e2e

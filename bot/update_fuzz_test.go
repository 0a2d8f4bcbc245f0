package bot

import (
	"context"
	"encoding/json"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// FuzzUpdateJSON: any update Telegram (or someone posting to the webhook
// with the secret) sends is either decoded and attributed to a private chat
// and a person, or left alone; it never panics.
func FuzzUpdateJSON(f *testing.F) {
	for _, s := range []string{
		`{"update_id":1,"message":{"message_id":1,"from":{"id":5},"chat":{"id":5,"type":"private"},"text":"/start"}}`,
		`{"update_id":2,"callback_query":{"id":"x","from":{"id":5},"data":"act:2026-01"}}`,
		`{"update_id":3,"callback_query":{"id":"x","from":{"id":5},"message":{"message_id":2,"chat":{"id":5,"type":"private"}},"data":"notme:1"}}`,
		`{"update_id":4,"message":{"message_id":1,"chat":{"id":-100,"type":"group"},"text":"hi"}}`,
		`{"update_id":5,"message":{"message_id":1,"chat":{"id":5,"type":"private"}}}`,
		`{"update_id":6,"callback_query":{"id":"x"}}`,
		`{"update_id":7,"edited_message":{"message_id":1,"chat":{"id":5,"type":"private"}}}`,
	} {
		f.Add([]byte(s))
	}
	b := &Bot{}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var u tgbotapi.Update
		if json.Unmarshal(raw, &u) != nil {
			return
		}
		key := chatOf(u)
		r := b.newReq(context.Background(), u)
		if r == nil {
			return
		}
		if r.user == nil || r.user.IsBot {
			t.Fatalf("newReq(%s) kept an update without a person", raw)
		}
		if (r.msg == nil) == (r.cq == nil) {
			t.Fatalf("newReq(%s): want exactly one of message and button press", raw)
		}
		if r.msg != nil && (r.msg.Chat == nil || r.msg.Chat.Type != "private" || key != r.chat) {
			t.Fatalf("newReq(%s) took a message outside a private chat, or chat %d ≠ order key %d", raw, r.chat, key)
		}
	})
}

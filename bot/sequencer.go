package bot

import "sync"

// sequencer runs tasks so that those of one key (a chat) run one after
// another in the order given, and those of different keys run concurrently on
// at most n goroutines. A chat holds a slot only while it has work, so one
// slow chat never delays another beyond taking a slot.
type sequencer struct {
	mu     sync.Mutex
	queues map[int64][]func()
	slots  chan struct{}
}

func newSequencer(n int) *sequencer {
	return &sequencer{queues: map[int64][]func(){}, slots: make(chan struct{}, n)}
}

// Go queues f behind key's earlier tasks. When every slot is busy it waits
// for one, which slows intake down instead of piling up goroutines.
func (s *sequencer) Go(key int64, f func()) {
	s.mu.Lock()
	q, running := s.queues[key]
	s.queues[key] = append(q, f)
	s.mu.Unlock()
	if running {
		return
	}
	s.slots <- struct{}{}
	go s.drain(key)
}

func (s *sequencer) drain(key int64) {
	defer func() { <-s.slots }()
	for {
		s.mu.Lock()
		q := s.queues[key]
		if len(q) == 0 {
			delete(s.queues, key)
			s.mu.Unlock()
			return
		}
		f := q[0]
		q[0] = nil
		s.queues[key] = q[1:]
		s.mu.Unlock()
		f()
	}
}

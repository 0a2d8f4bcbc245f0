package tcpproxy

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// echo serves lines back until the connection closes.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through addr and reports whether it came back.
func roundTrip(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "ping\n"
}

func TestCutAndRestore(t *testing.T) {
	p := New(t, echo(t))
	open, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"forwarding", func() {}, true},
		{"cut", p.Cut, false},
		{"restored", p.Restore, true},
	}
	for _, s := range steps {
		s.do()
		if got := roundTrip(p.Addr()); got != s.want {
			t.Errorf("%s: a round trip through the proxy = %v; want %v", s.name, got, s.want)
		}
	}
	// The connection opened before the cut was dropped with it.
	open.SetDeadline(time.Now().Add(time.Second))
	open.Write([]byte("x\n"))
	if _, err := bufio.NewReader(open).ReadString('\n'); err == nil {
		t.Error("a connection opened before Cut still works; want it dropped")
	}
}

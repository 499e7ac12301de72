package netpool

import (
	"bufio"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func echoOnce(t *testing.T, ln net.Listener, tag string) {
	t.Helper()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(tag + "\n"))
			c.Close()
		}
	}()
}

func dialRead(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return line[:len(line)-1]
}

// TestHandover: during a hold, a new listener on the same address takes
// over from the old one without the port ever closing.
func TestHandover(t *testing.T) {
	p := New()
	defer p.Close()
	old, err := p.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := old.Addr().String()
	echoOnce(t, old, "old")
	if got := dialRead(t, addr); got != "old" {
		t.Fatalf("got %q", got)
	}
	// A second Listen on the literal address string of the first would be a
	// different key; use the key the source used.
	p.Hold()
	nw, err := p.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if nw.Addr().String() != addr {
		t.Fatalf("new listener on %s, want shared %s", nw.Addr(), addr)
	}
	echoOnce(t, nw, "new")
	old.Close()
	if got := dialRead(t, addr); got != "new" {
		t.Fatalf("after handover got %q", got)
	}
	p.Release()
	if got := dialRead(t, addr); got != "new" {
		t.Fatalf("after release got %q", got)
	}
	nw.Close()
	if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		c.Close()
		t.Fatal("port still open after the last user closed")
	}
}

func TestPacketShared(t *testing.T) {
	p := New()
	defer p.Close()
	a, err := p.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Hold()
	b, err := p.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if a.LocalAddr().String() != b.LocalAddr().String() {
		t.Fatal("not shared")
	}
	a.Close()
	p.Release()
	c, _ := net.Dial("udp", b.LocalAddr().String())
	c.Write([]byte("hi"))
	c.Close()
	buf := make([]byte, 10)
	b.SetReadDeadline(time.Now().Add(time.Second))
	n, _, err := b.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("read: %q %v", buf[:n], err)
	}
	b.Close()
}

// Package netpool keeps sources' listening sockets open across config
// reloads, so TCP clients never find the port closed while the new topology
// takes over from the old one.
//
// A source asks the Pool for a listener; it gets a virtual net.Listener. The
// pool owns the real socket and one accept goroutine per socket, and hands
// each accepted connection to the newest virtual listener still open. While
// a reload is in progress (between Hold and Release) a socket whose last
// virtual listener closes stays open, so that the new source that takes its
// place finds it already bound.
//
// UDP sockets are shared the same way: every holder of an address gets the
// same socket wrapped so that Close only drops its reference.
package netpool

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Pool owns listening sockets. The zero value is not usable; use New.
type Pool struct {
	mu      sync.Mutex
	tcp     map[string]*shared
	udp     map[string]*sharedPacket
	holding int
	wg      sync.WaitGroup
}

// New returns an empty pool.
func New() *Pool {
	return &Pool{tcp: map[string]*shared{}, udp: map[string]*sharedPacket{}}
}

type shared struct {
	key   string
	ln    net.Listener
	users []*virtual
	// closed by the accept loop when ln fails
	done chan struct{}
}

type virtual struct {
	s      *shared
	p      *Pool
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

// Listen returns a listener on address. The same network and address string
// share one socket.
func (p *Pool) Listen(network, address string) (net.Listener, error) {
	key := network + "|" + address
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.tcp[key]
	if s == nil {
		ln, err := net.Listen(network, address)
		if err != nil {
			return nil, err
		}
		s = &shared{key: key, ln: ln, done: make(chan struct{})}
		p.tcp[key] = s
		p.wg.Add(1)
		go p.acceptLoop(s)
	}
	v := &virtual{s: s, p: p, conns: make(chan net.Conn), closed: make(chan struct{})}
	s.users = append(s.users, v)
	return v, nil
}

func (p *Pool) acceptLoop(s *shared) {
	defer p.wg.Done()
	defer close(s.done)
	var delay time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and the like: back off, as net/http does.
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay *= 2; delay > time.Second {
					delay = time.Second
				}
				time.Sleep(delay)
				continue
			}
			return
		}
		delay = 0
		p.deliver(s, c)
	}
}

// deliver hands c to the newest open virtual listener, or closes it when
// there is none.
func (p *Pool) deliver(s *shared, c net.Conn) {
	for {
		p.mu.Lock()
		var v *virtual
		if n := len(s.users); n > 0 {
			v = s.users[n-1]
		}
		p.mu.Unlock()
		if v == nil {
			c.Close()
			return
		}
		select {
		case v.conns <- c:
			return
		case <-v.closed:
			// Closed meanwhile; try the next one.
		}
	}
}

// Accept implements net.Listener.
func (v *virtual) Accept() (net.Conn, error) {
	select {
	case c := <-v.conns:
		return c, nil
	case <-v.closed:
		return nil, net.ErrClosed
	case <-v.s.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener: it unregisters v; the socket stays open for
// other users, or during a reload.
func (v *virtual) Close() error {
	v.once.Do(func() {
		close(v.closed)
		p := v.p
		p.mu.Lock()
		for i, u := range v.s.users {
			if u == v {
				v.s.users = append(v.s.users[:i], v.s.users[i+1:]...)
				break
			}
		}
		if len(v.s.users) == 0 && p.holding == 0 {
			p.closeTCP(v.s)
		}
		p.mu.Unlock()
	})
	return nil
}

// Addr implements net.Listener.
func (v *virtual) Addr() net.Addr { return v.s.ln.Addr() }

func (p *Pool) closeTCP(s *shared) {
	if p.tcp[s.key] == s {
		delete(p.tcp, s.key)
	}
	s.ln.Close()
}

type sharedPacket struct {
	key  string
	conn net.PacketConn
	refs int
}

type packetRef struct {
	net.PacketConn
	p    *Pool
	s    *sharedPacket
	once sync.Once
}

// ListenPacket returns a shared packet socket on address.
func (p *Pool) ListenPacket(network, address string) (net.PacketConn, error) {
	key := network + "|" + address
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.udp[key]
	if s == nil {
		c, err := net.ListenPacket(network, address)
		if err != nil {
			return nil, err
		}
		if uc, ok := c.(*net.UDPConn); ok {
			_ = uc.SetReadBuffer(8 << 20) // best effort: absorb bursts
		}
		s = &sharedPacket{key: key, conn: c}
		p.udp[key] = s
	}
	s.refs++
	return &packetRef{PacketConn: s.conn, p: p, s: s}, nil
}

// Close drops this reference; the socket closes with the last one (after a
// reload completes).
func (r *packetRef) Close() error {
	r.once.Do(func() {
		r.p.mu.Lock()
		r.s.refs--
		if r.s.refs == 0 && r.p.holding == 0 {
			r.p.closeUDP(r.s)
		}
		r.p.mu.Unlock()
	})
	return nil
}

func (p *Pool) closeUDP(s *sharedPacket) {
	if p.udp[s.key] == s {
		delete(p.udp, s.key)
	}
	s.conn.Close()
}

// Hold keeps sockets open when their last user closes, until Release.
func (p *Pool) Hold() {
	p.mu.Lock()
	p.holding++
	p.mu.Unlock()
}

// Release ends a Hold and closes sockets nobody uses any more.
func (p *Pool) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holding--
	if p.holding > 0 {
		return
	}
	for _, s := range p.tcp {
		if len(s.users) == 0 {
			p.closeTCP(s)
		}
	}
	for _, s := range p.udp {
		if s.refs == 0 {
			p.closeUDP(s)
		}
	}
}

// Close closes every socket and waits for the accept goroutines.
func (p *Pool) Close() {
	p.mu.Lock()
	for _, s := range p.tcp {
		p.closeTCP(s)
	}
	for _, s := range p.udp {
		p.closeUDP(s)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

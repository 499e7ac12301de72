package netsrc

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/netpool"
)

// TestReloadThroughNetpool plays a config reload the way the runtime does
// with its socket pool: the new servers open the same addresses (getting the
// same sockets) while the old ones still run, the old ones stop, and traffic
// keeps flowing to the new ones. When the new ones stop too, the sockets are
// released.
func TestReloadThroughNetpool(t *testing.T) {
	pool := netpool.New()
	defer pool.Close()

	// Pick free ports first: the pool shares sockets by address string.
	tcpAddr, udpAddr := freeAddr(t, "tcp"), freeAddr(t, "udp")
	type gen struct {
		tcp *TCPServer
		udp *UDPServer
		col *udpCollector
	}
	startGen := func(name string) gen {
		col := &udpCollector{Collector: componenttest.NewCollector()}
		env := componenttest.Env(t, name, col)
		env.Net = pool
		m := env.Metrics.Source(name)
		g := gen{
			tcp: NewTCPServer(env, m, TCPConfig{Address: tcpAddr}, lineHandler(env, m, 1024)),
			udp: NewUDPServer(env, m, UDPConfig{Address: udpAddr, PollInterval: 50 * time.Millisecond}, udpHandler(env, col)),
			col: col,
		}
		if err := g.tcp.Start(); err != nil {
			t.Fatal(err)
		}
		if err := g.udp.Start(); err != nil {
			t.Fatal(err)
		}
		return g
	}
	stopGen := func(g gen) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.tcp.Stop(ctx); err != nil {
			t.Error(err)
		}
		if err := g.udp.Stop(ctx); err != nil {
			t.Error(err)
		}
	}

	old := startGen("old")
	pool.Hold()
	next := startGen("new")
	stopGen(old)
	pool.Release()

	uc, err := net.Dial("udp", udpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	tc, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	fmt.Fprint(uc, "udp after reload")
	fmt.Fprint(tc, "tcp after reload\n")
	evs := next.col.WaitFor(t, 2, 5*time.Second)
	got := messages(evs)
	if !strings.Contains(got, "udp after reload") || !strings.Contains(got, "tcp after reload") {
		t.Errorf("new generation got %q", got)
	}

	stopGen(next)
	// Every user is gone: the pool has closed the sockets.
	pc, err := net.ListenPacket("udp", udpAddr)
	if err != nil {
		t.Fatalf("udp socket not released after the last server stopped: %v", err)
	}
	_ = pc.Close()
}

func messages(evs []event.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		b.WriteString(ev.Message())
		b.WriteByte('|')
	}
	return b.String()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().String()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var _ component.Listeners = (*netpool.Pool)(nil)

package gen

import "time"

// k8sGen makes Kubernetes container log lines in the CRI format the kubelet
// writes under /var/log/pods:
//
//	2006-01-02T15:04:05.000000000Z stdout F MESSAGE
//
// MESSAGE is a zap-style JSON object (60%) with "id":"RUN-SEQ", a klog line
// (25%) or a Spring Boot style text line (15%), both ending in id=RUN-SEQ.
// Errors go to stderr, with a few other lines.
type k8sGen struct{ o Options }

var klogFiles = []string{"reflector.go", "controller.go", "leaderelection.go", "shared_informer.go", "event.go"}

var klogMessages = parseTemplates(
	`"Watch close" reflector="k8s.io/client-go/informers/factory.go:159" type="*v1.Pod" totalItems={n}`,
	`"Successfully acquired lease" lease="kube-system/{svc}-controller"`,
	`"Syncing deployment" deployment="default/{svc}" replicas={small}`,
	`"Event occurred" object="default/{pod}" kind="Pod" reason="Pulled" message="Container image already present on machine"`,
	`"Failed to update lock" err="context deadline exceeded"`,
)

var springLoggers = []string{"c.e.shop.OrderController", "c.e.shop.CartService", "o.s.web.servlet.DispatcherServlet", "c.z.hikari.HikariPool", "o.a.kafka.clients.consumer.KafkaConsumer"}

// Append implements Generator.
func (g *k8sGen) Append(dst []byte, seq uint64, now time.Time) []byte {
	r := lineRNG(g.o.Seed, seq)
	lvl := levels.pick(&r)
	kind := r.intn(100)
	dst = appendRFC3339(dst, now, 9)
	if lvl.severity <= 3 || r.percent(3) {
		dst = append(dst, " stderr F "...)
	} else {
		dst = append(dst, " stdout F "...)
	}
	switch {
	case kind < 60:
		return g.appendZap(dst, &r, lvl, seq, now)
	case kind < 85:
		dst = append(dst, lvl.klog)
		dst = appendKlogTime(dst, now)
		dst = append(dst, "       1 "...)
		dst = append(dst, pickOne(&r, klogFiles)...)
		dst = append(dst, ':')
		dst = appendInt(dst, r.between(50, 900))
		dst = append(dst, "] "...)
		dst = pickOne(&r, klogMessages).append(dst, &r)
	default:
		dst = appendRFC3339(dst, now, 3)
		dst = append(dst, ' ')
		dst = append(dst, lvl.upper...)
		dst = append(dst, " 1 --- [nio-8080-exec-"...)
		dst = appendInt(dst, r.between(1, 10))
		dst = append(dst, "] "...)
		dst = append(dst, pickOne(&r, springLoggers)...)
		dst = append(dst, " : "...)
		dst = pickOne(&r, appMessages[lvl.name]).append(dst, &r)
	}
	dst = append(dst, " id="...)
	return appendID(dst, g.o.RunID, seq)
}

// appendZap appends a go.uber.org/zap production-style JSON message.
func (g *k8sGen) appendZap(dst []byte, r *rng, lvl level, seq uint64, now time.Time) []byte {
	svc := pickOne(r, services)
	access := r.percent(60)
	var status int
	if access {
		status = statuses.pick(r)
		lvl = statusLevel(status)
	}
	dst = append(dst, `{"level":"`...)
	dst = append(dst, lvl.name...)
	dst = append(dst, `","ts":"`...)
	dst = appendRFC3339(dst, now, 6)
	dst = append(dst, `","logger":"`...)
	dst = append(dst, svc...)
	if access {
		dst = append(dst, `.http","caller":"http/server.go:`...)
	} else {
		dst = append(dst, `","caller":"internal/app.go:`...)
	}
	dst = appendInt(dst, r.between(40, 400))
	dst = append(dst, `","msg":"`...)
	if access {
		dst = append(dst, `request completed","id":"`...)
		dst = appendID(dst, g.o.RunID, seq)
		dst = append(dst, `","method":"`...)
		dst = append(dst, methods.pick(r)...)
		dst = append(dst, `","path":"`...)
		dst = paths.pick(r).append(dst, r)
		dst = append(dst, `","status":`...)
		dst = appendInt(dst, status)
		dst = append(dst, `,"duration_ms":`...)
		dst = appendInt(dst, 1+r.skewed(r.between(20, 2000)))
		dst = append(dst, `,"remote_addr":"`...)
		dst = appendIP(dst, r)
	} else {
		dst = pickOne(r, appMessages[lvl.name]).append(dst, r)
		dst = append(dst, `","id":"`...)
		dst = appendID(dst, g.o.RunID, seq)
	}
	dst = append(dst, `","trace_id":"`...)
	dst = appendHex(dst, r, 32)
	return append(dst, `"}`...)
}

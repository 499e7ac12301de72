package gen

import "strconv"

// The vocabulary below is what makes the lines look like a real estate of
// machines and services: a few dozen hosts, a dozen services, weighted HTTP
// methods, status codes and log levels, and message templates taken from the
// programs that fill real log files.

var hosts = func() []string {
	var hs []string
	for _, g := range []struct {
		prefix string
		n      int
	}{{"web", 8}, {"api", 6}, {"worker", 4}, {"db", 2}, {"cache", 2}, {"lb", 2}, {"k8s-node", 6}, {"mail", 1}, {"bastion", 1}} {
		for i := 1; i <= g.n; i++ {
			n := strconv.Itoa(i)
			if i < 10 {
				n = "0" + n
			}
			hs = append(hs, g.prefix+"-"+n+".prod.example.internal")
		}
	}
	return hs
}()

var users = []string{
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
	"mallory", "oscar", "peggy", "trent", "victor", "walter", "deploy", "admin", "root",
	"ubuntu", "ec2-user", "jenkins", "git", "postgres", "www-data", "backup", "test", "oracle",
}

var services = []string{
	"checkout", "cart", "payment", "catalog", "search", "auth", "user-profile",
	"recommendation", "shipping", "inventory", "notification", "gateway",
}

var words = []string{
	"shoes", "jackets", "laptops", "headphones", "coffee", "books", "garden", "toys",
	"sale", "new", "kitchen", "camera", "watch", "bikes", "outdoor", "gifts",
}

var tables = []string{"orders", "order_items", "users", "sessions", "products", "payments", "inventory", "carts"}

var publicNets = []string{"203.0.113.", "198.51.100.", "192.0.2."}

var methods = newWeighted(
	choice[string]{700, "GET"}, choice[string]{180, "POST"}, choice[string]{50, "PUT"},
	choice[string]{30, "DELETE"}, choice[string]{20, "PATCH"}, choice[string]{10, "HEAD"},
	choice[string]{10, "OPTIONS"},
)

var statuses = newWeighted(
	choice[int]{700, 200}, choice[int]{40, 201}, choice[int]{30, 204}, choice[int]{20, 301},
	choice[int]{30, 302}, choice[int]{60, 304}, choice[int]{20, 400}, choice[int]{20, 401},
	choice[int]{10, 403}, choice[int]{40, 404}, choice[int]{8, 429}, choice[int]{12, 500},
	choice[int]{5, 502}, choice[int]{5, 503},
)

var paths = newWeighted(
	choice[msgTemplate]{120, parseTemplate("/api/v1/products/{n}")},
	choice[msgTemplate]{60, parseTemplate("/api/v1/products?category={word}&page={small}")},
	choice[msgTemplate]{60, parseTemplate("/api/v1/search?q={word}")},
	choice[msgTemplate]{50, parseTemplate("/api/v1/cart")},
	choice[msgTemplate]{30, parseTemplate("/api/v1/cart/items/{n}")},
	choice[msgTemplate]{40, parseTemplate("/api/v1/orders")},
	choice[msgTemplate]{40, parseTemplate("/api/v1/orders/{big}")},
	choice[msgTemplate]{20, parseTemplate("/api/v1/payments/{hex16}")},
	choice[msgTemplate]{30, parseTemplate("/api/v1/users/{uid}")},
	choice[msgTemplate]{20, parseTemplate("/api/v2/recommendations?user={uid}")},
	choice[msgTemplate]{80, parseTemplate("/healthz")},
	choice[msgTemplate]{30, parseTemplate("/metrics")},
	choice[msgTemplate]{60, parseTemplate("/")},
	choice[msgTemplate]{20, parseTemplate("/login")},
	choice[msgTemplate]{10, parseTemplate("/logout")},
	choice[msgTemplate]{20, parseTemplate("/checkout")},
	choice[msgTemplate]{10, parseTemplate("/account/settings")},
	choice[msgTemplate]{60, parseTemplate("/static/js/app.{hex8}.js")},
	choice[msgTemplate]{40, parseTemplate("/static/css/main.{hex8}.css")},
	choice[msgTemplate]{80, parseTemplate("/images/products/{n}.jpg")},
	choice[msgTemplate]{10, parseTemplate("/favicon.ico")},
	choice[msgTemplate]{10, parseTemplate("/robots.txt")},
)

var userAgents = newWeighted(
	choice[string]{250, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
	choice[string]{150, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
	choice[string]{150, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"},
	choice[string]{80, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"},
	choice[string]{70, "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"},
	choice[string]{50, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51"},
	choice[string]{60, "kube-probe/1.29"},
	choice[string]{40, "curl/8.5.0"},
	choice[string]{40, "python-requests/2.31.0"},
	choice[string]{40, "Go-http-client/1.1"},
	choice[string]{30, "okhttp/4.12.0"},
	choice[string]{20, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
	choice[string]{20, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"},
)

var referers = newWeighted(
	choice[string]{500, "-"},
	choice[string]{200, "https://shop.example.com/"},
	choice[string]{100, "https://shop.example.com/cart"},
	choice[string]{100, "https://www.google.com/"},
	choice[string]{50, "https://www.bing.com/"},
	choice[string]{50, "https://shop.example.com/search?q=shoes"},
)

// Level is a log level with the names each format uses.
type level struct {
	name     string // ECS / zap: "info"
	upper    string // "INFO"
	klog     byte   // 'I', 'W', 'E'
	severity int    // syslog severity
}

var (
	lvlDebug = level{"debug", "DEBUG", 'I', 7}
	lvlInfo  = level{"info", "INFO", 'I', 6}
	lvlWarn  = level{"warn", "WARN", 'W', 4}
	lvlError = level{"error", "ERROR", 'E', 3}
)

// levels weights levels like a production service that logs at info.
var levels = newWeighted(
	choice[level]{60, lvlDebug}, choice[level]{820, lvlInfo}, choice[level]{80, lvlWarn}, choice[level]{40, lvlError},
)

// appMessages are application log messages (not HTTP access lines), by
// level. They never contain '"' or '\\', so they go into JSON unescaped.
var appMessages = map[string][]msgTemplate{
	"debug": parseTemplates(
		"cache hit for key product:{n}",
		"SELECT * FROM {table} WHERE id = {n} took {ms}ms",
		"feature flag {word}-banner evaluated to true for user {uid}",
		"acquired lock {table}:{n} after {ms}ms",
	),
	"info": parseTemplates(
		"order {big} created for user {uid}",
		"payment {hex16} authorized",
		"user {uid} logged in",
		"cache refreshed in {ms}ms, {n} keys",
		"scheduled job reindex-{word} finished in {ms}ms",
		"consumer group rebalanced, {small} partitions assigned",
		"sent order confirmation email for order {big}",
		"connected to database {host}:5432",
	),
	"warn": parseTemplates(
		"slow query on table {table} took {ms}ms",
		"retrying request to {svc} (attempt {small} of 5)",
		"connection pool nearly exhausted: {small}/64 connections in use",
		"rate limit reached for user {uid}, rejecting request",
		"inventory for product {n} below threshold",
	),
	"error": parseTemplates(
		"failed to charge card for order {big}: gateway timeout after {ms}ms",
		"upstream {svc} returned 503 Service Unavailable",
		"database connection lost: read tcp {ip}:{port}: connection reset by peer",
		"panic recovered: runtime error: index out of range [{small}] with length {small}",
		"context deadline exceeded calling {svc}",
	),
}

func parseTemplates(ss ...string) []msgTemplate {
	ts := make([]msgTemplate, len(ss))
	for i, s := range ss {
		ts[i] = parseTemplate(s)
	}
	return ts
}

// Syslog programs: facility numbers from RFC 5424 (kern 0, mail 2, daemon 3,
// auth 4, cron 9, authpriv 10, local0 16, local7 23).
type syslogApp struct {
	name     string
	facility int
	msgs     *weighted[syslogMsg]
}

type syslogMsg struct {
	severity int
	t        msgTemplate
}

func sm(w, sev int, s string) choice[syslogMsg] {
	return choice[syslogMsg]{w, syslogMsg{sev, parseTemplate(s)}}
}

var syslogApps = newWeighted(
	choice[*syslogApp]{250, &syslogApp{"sshd", 4, newWeighted(
		sm(30, 6, "Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:{hex16}{hex16}"),
		sm(10, 6, "Accepted password for {user} from {ip} port {port} ssh2"),
		sm(30, 6, "pam_unix(sshd:session): session opened for user {user}(uid={n}) by (uid=0)"),
		sm(20, 6, "Disconnected from user {user} {ip} port {port}"),
		sm(40, 4, "Failed password for invalid user {user} from {ip} port {port} ssh2"),
		sm(30, 6, "Invalid user {user} from {ip} port {port}"),
		sm(20, 6, "Connection closed by authenticating user {user} {ip} port {port} [preauth]"),
	)}},
	choice[*syslogApp]{60, &syslogApp{"sudo", 10, newWeighted(
		sm(50, 5, "{user} : TTY=pts/{small} ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart {svc}"),
		sm(40, 6, "pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={n})"),
		sm(10, 3, "{user} : 3 incorrect password attempts ; TTY=pts/{small} ; PWD=/home/{user} ; USER=root ; COMMAND=/bin/bash"),
	)}},
	choice[*syslogApp]{200, &syslogApp{"systemd", 3, newWeighted(
		sm(30, 6, "Started Session {n} of User {user}."),
		sm(20, 6, "Started {svc}.service - {svc} service."),
		sm(10, 6, "Starting Daily apt upgrade and clean activities..."),
		sm(10, 6, "logrotate.service: Deactivated successfully."),
		sm(5, 3, "{svc}.service: Main process exited, code=exited, status=1/FAILURE"),
		sm(5, 4, "{svc}.service: Scheduled restart job, restart counter is at {small}."),
	)}},
	choice[*syslogApp]{60, &syslogApp{"kernel", 0, newWeighted(
		sm(50, 4, "[UFW BLOCK] IN=eth0 OUT= SRC={ip} DST=10.0.0.{small} LEN=60 TOS=0x00 PREC=0x00 TTL={small} ID={n} DF PROTO=TCP SPT={port} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0"),
		sm(10, 4, "TCP: request_sock_TCP: Possible SYN flooding on port {port}. Sending cookies."),
		sm(5, 3, "Out of memory: Killed process {pid} ({svc}) total-vm:{big}kB, anon-rss:{big}kB, file-rss:0kB"),
		sm(10, 6, "eth0: renamed from veth{hex8}"),
	)}},
	choice[*syslogApp]{80, &syslogApp{"CRON", 9, newWeighted(
		sm(60, 6, "({user}) CMD (/usr/local/bin/backup.sh --target s3 >/dev/null 2>&1)"),
		sm(40, 6, "pam_unix(cron:session): session closed for user {user}"),
	)}},
	choice[*syslogApp]{150, &syslogApp{"nginx", 23, newWeighted(
		sm(60, 6, "{ip} {method} {path} {status} {n} {ms}ms"),
		sm(10, 3, "upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}, server: shop.example.com, request: {method} {path} HTTP/1.1"),
		sm(5, 4, "limiting requests, excess: {small}.{n} by zone perip, client: {ip}"),
	)}},
	choice[*syslogApp]{60, &syslogApp{"postfix/smtpd", 2, newWeighted(
		sm(40, 6, "connect from unknown[{ip}]"),
		sm(40, 6, "disconnect from unknown[{ip}] ehlo=1 auth=0/1 rset=1 quit=1 commands=3/4"),
		sm(20, 5, "NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 Relay access denied; proto=ESMTP helo=<{word}.example.net>"),
	)}},
	choice[*syslogApp]{140, &syslogApp{"app", 16, newWeighted(
		sm(70, 6, "{svc}: {method} {path} {status} {ms}ms user={uid}"),
		sm(15, 6, "{svc}: order {big} created for user {uid}"),
		sm(10, 4, "{svc}: slow query on table {table} took {ms}ms"),
		sm(5, 3, "{svc}: context deadline exceeded calling {svc}"),
	)}},
)

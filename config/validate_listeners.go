package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"

	"cardflow/internal/routes"
)

// listeners checks the storefront listener's limits and the opt-in metrics
// listener.
func (v *validator) listeners() {
	c := v.c
	if c.API.MaxConnections < 1 {
		v.add("api.max_connections", "%d is out of range; use 1 or more (default %d), like max_connections = 1024", c.API.MaxConnections, DefaultMaxConnections)
	}
	if c.API.ReadTimeout <= 0 {
		v.add("api.read_timeout", `must be positive; write it like read_timeout = "10s"`)
	}
	if c.Metrics.Listen == "" {
		return
	}
	host, port, ok := v.listen("metrics.listen", c.Metrics.Listen, "127.0.0.1:9100")
	if !ok {
		return
	}
	for _, other := range []struct{ key, addr string }{{"api.listen", c.API.Listen}, {"admin.listen", c.Admin.Listen}} {
		oh, op, err := net.SplitHostPort(other.addr)
		if err == nil && op == port && port != "0" && (oh == host || oh == "" || host == "") {
			v.add("metrics.listen", "%s collides with %s %s; give metrics its own port, like \"127.0.0.1:9100\"", c.Metrics.Listen, other.key, other.addr)
		}
	}
	if !isLoopback(host) {
		w := Problem{File: c.file, Line: c.lines.lookup("metrics.listen"), Key: "metrics.listen",
			Msg: fmt.Sprintf("%s is not a loopback address and /metrics there needs no credentials; make sure only your Prometheus can reach it", c.Metrics.Listen)}
		c.warnings = append(c.warnings, w.String())
	}
}

// routes checks every path the config serves on [api] listen with the rules
// the server mounts them by: a clean literal path of its own, off
// cardflow's own routes and off each other's.
func (v *validator) routes() {
	for _, err := range routes.Check(v.c.Mounts()) {
		var me *routes.MountError
		if !errors.As(err, &me) {
			v.add("api.listen", "%v", err)
			continue
		}
		key := me.Mount.Owner
		if v.rep.has(key) {
			continue // its own check said what is wrong already
		}
		switch key {
		case "telegram.webhook_url":
			v.add(key, "its path %q %v; Telegram posts to this path on [api] listen, like webhook_url = \"https://ops.example.com/telegram/hook\"", me.Mount.Path, me.Err)
		case "qq.webhook_path":
			v.add(key, "%q %v; write it like webhook_path = \"/qq/webhook\"", me.Mount.Path, me.Err)
		default:
			v.add(key, "%q %v; write it like notify_path = \"/notify/fulu\"", me.Mount.Path, me.Err)
		}
	}
}

// callbackScheme refuses plain http callbacks beyond loopback unless the
// storefront allows them: a callback carries the order's card keys and a
// signature anyone on the path could read.
func (v *validator) callbackScheme(key string, s Storefront) {
	u, err := url.Parse(s.CallbackURL)
	if err != nil || u.Scheme != "http" || isLoopback(u.Hostname()) {
		return
	}
	if !s.AllowInsecureCallback {
		v.add(key+".callback_url", "%q is plain http to a host that is not loopback, and callbacks carry card keys and their signature; use https, or set allow_insecure_callback = true on this storefront if the network path to it is private", s.CallbackURL)
		return
	}
	w := Problem{File: v.c.file, Line: v.c.lines.lookup(key + ".allow_insecure_callback"), Key: key + ".callback_url",
		Msg: fmt.Sprintf("%q sends card keys in plain http (allow_insecure_callback = true); keep the network path to it private", s.CallbackURL)}
	v.c.warnings = append(v.c.warnings, w.String())
}

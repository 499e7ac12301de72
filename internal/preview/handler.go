package preview

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

// MaxRequestBytes bounds the body of a preview request.
const MaxRequestBytes = 16 << 20

// Request is the body of POST /api/v1/preview.
type Request struct {
	// Config is a YAML config holding the pipeline; empty means the
	// running config. It may not use ${...} references nor functions that
	// read files (lookup): the request must not read the server's secrets.
	Config string `json:"config"`
	// Pipeline names the pipeline to run.
	Pipeline string `json:"pipeline"`
	// Events are sample events as JSON objects. Alternatively Input holds
	// sample text in Format (auto, ndjson or lines).
	Events []json.RawMessage `json:"events"`
	Input  string            `json:"input"`
	Format string            `json:"format"`
	// Source is the source name conditions see as __source.
	Source string `json:"source"`
}

// ConfigError is one config problem in an error response.
type ConfigError struct {
	Line    int    `json:"line,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// ErrorResponse is the body of a failed preview request.
type ErrorResponse struct {
	Error  string        `json:"error"`
	Errors []ConfigError `json:"errors,omitempty"`
}

// Handler serves POST /api/v1/preview: it runs the request's events through
// a pipeline of the request's config (or of running(), when the request
// has none) and answers with a Result. Bad input gets a 400 with an
// ErrorResponse; config errors come with their lines.
func Handler(reg *component.Registry, running func() *config.Config, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
		var req Request
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				reply(w, http.StatusRequestEntityTooLarge, ErrorResponse{Error: "request body larger than 16MiB"})
				return
			}
			reply(w, http.StatusBadRequest, ErrorResponse{Error: "invalid request body: " + err.Error()})
			return
		}
		var cfg *config.Config
		if strings.TrimSpace(req.Config) != "" {
			c, err := config.Parse([]byte(req.Config), "config", reg, config.Options{PipelinesOnly: true, Untrusted: true})
			if err != nil {
				resp := ErrorResponse{Error: err.Error()}
				var errs config.Errors
				if errors.As(err, &errs) {
					for _, e := range errs {
						resp.Errors = append(resp.Errors, ConfigError{Line: e.Line, Path: e.Path, Message: e.Msg})
					}
				}
				reply(w, http.StatusBadRequest, resp)
				return
			}
			cfg = c
		} else if running != nil {
			cfg = running()
		}
		if cfg == nil {
			reply(w, http.StatusBadRequest, ErrorResponse{Error: "no config: send one in \"config\" (no config is running)"})
			return
		}
		now := time.Now()
		var events []event.Event
		switch {
		case len(req.Events) > 0 && req.Input != "":
			reply(w, http.StatusBadRequest, ErrorResponse{Error: "send either events or input, not both"})
			return
		case len(req.Events) > MaxEvents:
			reply(w, http.StatusBadRequest, ErrorResponse{Error: "too many events: the limit is 10000"})
			return
		case len(req.Events) > 0:
			for i, raw := range req.Events {
				ev := event.NewSized(now, 8)
				if err := jsonparse.ParseObject(&ev, raw); err != nil {
					reply(w, http.StatusBadRequest, ErrorResponse{Error: "events[" + strconv.Itoa(i) + "]: " + err.Error()})
					return
				}
				events = append(events, ev)
			}
		default:
			evs, err := Read(reg, strings.NewReader(req.Input), req.Format, now)
			if err != nil {
				reply(w, http.StatusBadRequest, ErrorResponse{Error: "input: " + err.Error()})
				return
			}
			events = evs
		}
		res, err := Run(Options{Config: cfg, Registry: reg, Pipeline: req.Pipeline, Source: req.Source, Logger: log}, events)
		if err != nil {
			reply(w, http.StatusBadRequest, ErrorResponse{Error: err.Error()})
			return
		}
		reply(w, http.StatusOK, res)
	})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/iys/sandbox"
)

func (r *root) iysSandboxCmd() *cobra.Command {
	var addr string
	var rate, asyncPolls int
	var changesDelay time.Duration
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve a fake İYS to try uploads, refusals and pulls without İYS credentials",
		Long: `Serve, in memory, the fake İYS that izin's tests use: İYS's token endpoint, single and
bulk uploads with İYS's rules and refusal codes (H175 for a first RET, H178 for an older
date, H467 past 3 business days, …), bulk results, the status query, the change feed and
the daily change files. Any user name and password are accepted, for any İYS code and
brand code. Under /sandbox/ an admin API emits the changes citizens make at İYS, lists what
the sandbox holds (as JSON, or as İYS's change file for izin iys pull) and starts again:

  POST /sandbox/changes   {"brandCode":"654321","recipient":"+905321234567","type":"MESAJ",
                           "status":"RET","source":"IYS_MOBIL"}
  GET  /sandbox/consents  ?brandCode=654321&recipient=…&format=csv
  POST /sandbox/reset

Nothing is kept when it stops (Ctrl-C).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts := []sandbox.Option{sandbox.WithAnyCredentials(), sandbox.WithAsyncPolls(asyncPolls),
				sandbox.WithChangesDelay(changesDelay)}
			if rate > 0 {
				opts = append(opts, sandbox.WithRateLimit(rate, time.Second))
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("--addr: %w", err)
			}
			url := "http://" + l.Addr().String()
			srv := &http.Server{Handler: logRequests(sandbox.New(opts...), r.logger()), ReadHeaderTimeout: 10 * time.Second}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			if err := r.emit(map[string]string{"url": url}, sandboxBanner(url)); err != nil {
				_ = srv.Close()
				return err
			}
			select {
			case err := <-served:
				return fmt.Errorf("sandbox: %w", err)
			case <-ctx.Done():
			}
			shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			err = srv.Shutdown(shutdown)
			if e := <-served; !errors.Is(e, http.ErrServerClosed) {
				err = errors.Join(err, e)
			}
			fmt.Fprintln(r.errOut, "izin iys sandbox: stopped")
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8099", "listen address")
	f.IntVar(&rate, "rate-limit", 0, "answer 429 (H124) beyond this many API requests a second; 0: no limit")
	f.IntVar(&asyncPolls, "async-polls", 0, "bulk requests stay queued for this many result queries, as İYS's do for a while")
	f.DurationVar(&changesDelay, "changes-delay", 0, "hide changes younger than this from the change feed (İYS hides the last hour)")
	return cmd
}

func sandboxBanner(url string) string {
	return fmt.Sprintf(`
  İYS sandbox at %[1]s   (any user name and password; in memory; Ctrl-C stops it)

  Point a brand of izin at it:
    izin iys configure --tenant $TENANT --iys-code 123456 --brand-code 654321 \
        --username sandbox --password sandbox --base-url %[1]s --enable
    izin iys sync --tenant $TENANT --iys-poll-delay=-1s    # the sandbox answers bulk requests at once

  Act as a citizen at İYS, and see what it holds:
    curl -s %[1]s/sandbox/changes -d '{"brandCode":"654321","recipient":"+905321234567","type":"MESAJ","status":"RET","source":"IYS_MOBIL"}'
    curl -s '%[1]s/sandbox/consents?brandCode=654321'
    curl -s '%[1]s/sandbox/consents?brandCode=654321&format=csv' > iys.csv    # for izin iys pull --from-file

`, url)
}

// logRequests logs every request the sandbox answers, so an integrator sees
// what izin sent and how İYS would have answered.
func logRequests(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		h.ServeHTTP(rec, req)
		log.Info("iys sandbox", "method", req.Method, "path", req.URL.Path, "status", rec.status,
			"duration", time.Since(start).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap gives http.ResponseController the connection underneath.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

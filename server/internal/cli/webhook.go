package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/webhook"
)

func (r *root) webhookCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "webhook", Short: "Webhooks: subscribe URLs to events (Standard Webhooks), rotate secrets, replay"}
	cmd.PersistentFlags().BoolVar(&r.cfg.WebhookAllowPrivate, "webhook-allow-private", false,
		"accept http and private, loopback or link-local targets (tests, development) [IZIN_WEBHOOK_ALLOW_PRIVATE]")
	cmd.AddCommand(r.webhookCreateCmd(), r.webhookListCmd(), r.webhookDeleteCmd(), r.webhookRotateCmd(), r.webhookReplayCmd())
	return cmd
}

// withWebhooks runs fn with the webhook service for an existing tenant.
func (r *root) withWebhooks(cmd *cobra.Command, tenant string, fn func(*webhook.Service) error) error {
	return r.withTenant(cmd.Context(), tenant, func(ops *app.Ops) error {
		svc, err := ops.Webhooks()
		if err != nil {
			return err
		}
		return fn(svc)
	})
}

// webhookView is a webhook as the commands print it.
type webhookView struct {
	ID                  string     `json:"id"`
	URL                 string     `json:"url"`
	Events              []string   `json:"events"`
	CreatedAt           time.Time  `json:"created_at"`
	DisabledAt          *time.Time `json:"disabled_at,omitempty"`
	DisabledReason      string     `json:"disabled_reason,omitempty"`
	PreviousSecretUntil *time.Time `json:"previous_secret_until,omitempty"`
	// Secret is set only in the answers of create and rotate.
	Secret string `json:"secret,omitempty"`
}

func viewOf(w *store.Webhook, secret string) webhookView {
	return webhookView{ID: w.ID, URL: w.URL, Events: webhook.EventsOf(w), CreatedAt: w.CreatedAt, DisabledAt: w.DisabledAt,
		DisabledReason: w.DisabledReason, PreviousSecretUntil: w.PreviousSecretUntil, Secret: secret}
}

func (r *root) webhookCreateCmd() *cobra.Command {
	var tenant, url string
	var events []string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Subscribe a URL to events; prints the signing secret (whsec_…) once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.withWebhooks(cmd, tenant, func(svc *webhook.Service) error {
				w, secret, err := svc.Create(cmd.Context(), tenant, url, events)
				if err != nil {
					return cliError(err)
				}
				return r.emit(viewOf(w, secret), fmt.Sprintf("webhook %s → %s (%s)\nsecret %s\n(shown only now: keep it to verify signatures)\n",
					w.ID, w.URL, w.Events, secret))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&url, "url", "", "target URL, https (required)")
	f.StringSliceVar(&events, "events", nil, "event types, comma-separated: "+strings.Join(webhook.Events, ", ")+" (required)")
	requireFlags(cmd, "tenant", "url", "events")
	return cmd
}

func (r *root) webhookListCmd() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's webhooks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.withWebhooks(cmd, tenant, func(svc *webhook.Service) error {
				ws, err := svc.List(cmd.Context(), tenant)
				if err != nil {
					return err
				}
				views := make([]webhookView, len(ws))
				t := newTable("ID\tURL\tEVENTS\tCREATED\tSTATE")
				for i := range ws {
					views[i] = viewOf(&ws[i], "")
					state := "active"
					if ws[i].DisabledAt != nil {
						state = "disabled: " + ws[i].DisabledReason
					}
					t.row("%s\t%s\t%s\t%s\t%s", ws[i].ID, ws[i].URL, ws[i].Events, timeText(ws[i].CreatedAt), state)
				}
				return r.emit(map[string]any{"webhooks": views}, t.String())
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant id (required)")
	requireFlags(cmd, "tenant")
	return cmd
}

func (r *root) webhookDeleteCmd() *cobra.Command {
	var tenant, id string
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete a webhook (nothing more is delivered to it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.withWebhooks(cmd, tenant, func(svc *webhook.Service) error {
				if err := svc.Delete(cmd.Context(), tenant, id); err != nil {
					return webhookError(err)
				}
				return r.emit(map[string]string{"id": id, "deleted": "true"}, fmt.Sprintf("webhook %s deleted\n", id))
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant id (required)")
	cmd.Flags().StringVar(&id, "id", "", "webhook id (required)")
	requireFlags(cmd, "tenant", "id")
	return cmd
}

func (r *root) webhookRotateCmd() *cobra.Command {
	var tenant, id string
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Give a webhook a new secret, printed once; the old one signs too for 24 hours",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.withWebhooks(cmd, tenant, func(svc *webhook.Service) error {
				w, secret, err := svc.Rotate(cmd.Context(), tenant, id)
				if err != nil {
					return webhookError(err)
				}
				return r.emit(viewOf(w, secret), fmt.Sprintf("webhook %s: new secret %s\nthe previous secret signs too until %s\n",
					w.ID, secret, timeText(*w.PreviousSecretUntil)))
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant id (required)")
	cmd.Flags().StringVar(&id, "id", "", "webhook id (required)")
	requireFlags(cmd, "tenant", "id")
	return cmd
}

func (r *root) webhookReplayCmd() *cobra.Command {
	var tenant, id, since, until string
	var deliveries []string
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Send deliveries again, by id (--delivery) or by creation time (--since, --until), with their webhook-id unchanged",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := webhook.ReplayRequest{DeliveryIDs: deliveries}
			for _, tf := range []struct {
				flag, value string
				into        *time.Time
			}{{"since", since, &req.Since}, {"until", until, &req.Until}} {
				if tf.value == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, tf.value)
				if err != nil {
					return fmt.Errorf("--%s: want RFC 3339, e.g. 2026-12-01T00:00:00Z", tf.flag)
				}
				*tf.into = t
			}
			return r.withWebhooks(cmd, tenant, func(svc *webhook.Service) error {
				n, err := svc.Replay(cmd.Context(), tenant, id, req)
				if err != nil {
					return webhookError(err)
				}
				return r.emit(map[string]int64{"replayed": n}, fmt.Sprintf("%d deliveries queued again (the running server sends them)\n", n))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&id, "id", "", "webhook id (required)")
	f.StringSliceVar(&deliveries, "delivery", nil, "delivery id (msg_…), repeatable or comma-separated")
	f.StringVar(&since, "since", "", "deliveries created at or after this time (RFC 3339)")
	f.StringVar(&until, "until", "", "deliveries created before this time (RFC 3339)")
	requireFlags(cmd, "tenant", "id")
	return cmd
}

// webhookError names the command's flags in the service's field errors.
func webhookError(err error) error {
	if e, ok := errs.As(err); ok {
		switch e.Field {
		case "delivery_ids":
			return fmt.Errorf("--delivery: %s", e.Message)
		case "id":
			return fmt.Errorf("--id: %s", e.Message)
		}
	}
	return cliError(err)
}

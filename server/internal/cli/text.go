package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/izinhq/izin/server/internal/app"
	"github.com/izinhq/izin/server/internal/auth"
	"github.com/izinhq/izin/server/internal/errs"
	"github.com/izinhq/izin/server/internal/store"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/tenancy"
	"github.com/izinhq/izin/server/internal/texts"
)

// maxTextFile bounds what text create reads; the body itself may hold
// texts.MaxBody characters.
const maxTextFile = 1 << 20

// textEnv is what the text commands work with.
type textEnv struct {
	st  *sqlstore.Store
	ten *tenancy.Service
	svc *texts.Service
	p   auth.Principal
}

// withTexts runs fn with the consent-text services of one tenant, acting
// as its administrator.
func (r *root) withTexts(ctx context.Context, tenant string, fn func(*textEnv) error) error {
	return r.withTenant(ctx, tenant, func(ops *app.Ops) error {
		return fn(&textEnv{st: ops.Store, ten: ops.Tenancy, svc: ops.Texts,
			p: auth.Principal{TenantID: tenant, Scope: store.ScopeAdmin}})
	})
}

// textJSON is a consent text as the --json output shows it.
type textJSON struct {
	ID         string `json:"id"`
	BrandCode  string `json:"brand_code"`
	Kind       string `json:"kind"`
	Language   string `json:"language"`
	Version    int    `json:"version"`
	Title      string `json:"title"`
	Body       string `json:"body,omitempty"`
	SHA256     string `json:"sha256"`
	CreateTime string `json:"create_time"`
}

func textOut(t *store.ConsentText, brandCode string, withBody bool) textJSON {
	out := textJSON{ID: t.ID, BrandCode: brandCode, Kind: texts.KindName(t.Kind), Language: t.Language,
		Version: t.Version, Title: t.Title, SHA256: t.SHA256, CreateTime: t.CreatedAt.UTC().Format(time.RFC3339)}
	if withBody {
		out.Body = t.Body
	}
	return out
}

func (r *root) textCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "text", Short: "Consent texts: the ETK statement, the KVKK privacy notice and explicit consent, versioned"}
	cmd.AddCommand(r.textCreateCmd(), r.textListCmd(), r.textSeedCmd())
	return cmd
}

// textFlag names the flag behind a field of texts.NewText.
var textFlag = map[string]string{"brand": "--brand", "kind": "--kind", "language": "--lang", "title": "--title", "body": "--file"}

func (r *root) textCreateCmd() *cobra.Command {
	var tenant, brand, kind, lang, title, file string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Publish a new version of a brand's text in one language (the consent page shows it from then on)",
		Long: `Publish a new version of a brand's consent text. A published version is never
changed; the newest version of each brand, kind and language is the one shown.
The body is plain text read from --file ("-" reads standard input); a blank
line separates paragraphs. Line ends become LF and trailing spaces are removed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, ok := texts.ParseKind(kind)
			if !ok {
				return fmt.Errorf("--kind: want etk, privacy or explicit; got %q", kind)
			}
			body, err := readTextFile(cmd, file)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return r.withTexts(ctx, tenant, func(e *textEnv) error {
				t, err := e.svc.Create(ctx, e.p, texts.NewText{Brand: brand, Kind: k, Language: lang, Title: title, Body: body})
				if err != nil {
					return textError(err)
				}
				return r.emit(textOut(&t.ConsentText, t.BrandCode, false),
					fmt.Sprintf("published %s/%s version %d of brand %s\nid:     %s\nsha256: %s\n",
						texts.KindName(t.Kind), t.Language, t.Version, t.BrandCode, t.ID, t.SHA256))
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&brand, "brand", "", "brand code (default: the tenant's default brand)")
	f.StringVar(&kind, "kind", "", "etk, privacy or explicit (required)")
	f.StringVar(&lang, "lang", "", "tr or en (required)")
	f.StringVar(&title, "title", "", "title, one line of up to 200 characters (required)")
	f.StringVar(&file, "file", "", "file holding the body, plain text; - for standard input (required)")
	requireFlags(cmd, "tenant", "kind", "lang", "title", "file")
	return cmd
}

func readTextFile(cmd *cobra.Command, file string) (string, error) {
	var rd io.Reader
	if file == "-" {
		rd = cmd.InOrStdin()
	} else {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		rd = f
	}
	b, err := io.ReadAll(io.LimitReader(rd, maxTextFile+1))
	if err != nil {
		return "", fmt.Errorf("--file: %w", err)
	}
	if len(b) > maxTextFile {
		return "", fmt.Errorf("--file: larger than %d bytes", maxTextFile)
	}
	// A byte-order mark some editors write is not part of the text.
	return string(bytes.TrimPrefix(b, []byte("\uFEFF"))), nil
}

// textError names the flag behind a field the texts service refused.
func textError(err error) error {
	if e, ok := errs.As(err); ok && e.Field != "" {
		if flag, ok := textFlag[e.Field]; ok {
			return fmt.Errorf("%s: %s", flag, e.Message)
		}
	}
	return err
}

func (r *root) textListCmd() *cobra.Command {
	var tenant, brand string
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a tenant's consent texts: the current version of each, or with --all every version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withTexts(ctx, tenant, func(e *textEnv) error {
				ts, err := e.svc.List(ctx, e.p, brand, all)
				if err != nil {
					return textError(err)
				}
				rows := make([]textJSON, 0, len(ts))
				var buf bytes.Buffer
				tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "BRAND\tKIND\tLANG\tVERSION\tPUBLISHED\tID\tSHA256\tTITLE")
				for i := range ts {
					t := &ts[i]
					rows = append(rows, textOut(&t.ConsentText, t.BrandCode, true))
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s…\t%s\n", t.BrandCode, texts.KindName(t.Kind), t.Language,
						t.Version, t.CreatedAt.UTC().Format(time.RFC3339), t.ID, t.SHA256[:min(12, len(t.SHA256))], t.Title)
				}
				_ = tw.Flush()
				text := buf.String()
				if len(ts) == 0 {
					text = "no consent texts\n"
				}
				return r.emit(map[string]any{"texts": rows}, text)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&brand, "brand", "", "only this brand (default: every brand)")
	f.BoolVar(&all, "all", false, "every version, newest first, not only the current ones")
	requireFlags(cmd, "tenant")
	return cmd
}

func (r *root) textSeedCmd() *cobra.Command {
	var tenant, brand string
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Publish the default texts for every kind and language a brand has no version of yet",
		Long: `Publish izin's default consent texts (Turkish and English) for every kind and
language a brand has no version of. New tenants and brands get them when they
are created; this fills in brands made before, and changes nothing where a
text exists.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withTexts(ctx, tenant, func(e *textEnv) error {
				t, err := e.ten.Tenant(ctx, tenant)
				if err != nil {
					return err
				}
				var brands []store.Brand
				if brand != "" {
					b, err := e.ten.Brand(ctx, tenant, brand)
					if err != nil {
						return textError(err)
					}
					brands = []store.Brand{*b}
				} else if brands, err = e.ten.ListBrands(ctx, tenant); err != nil {
					return err
				}
				rows := []textJSON{}
				text := ""
				for i := range brands {
					b := &brands[i]
					published, err := texts.Seed(ctx, e.st, t, b, time.Now())
					if err != nil {
						return err
					}
					for j := range published {
						c := &published[j]
						rows = append(rows, textOut(c, b.Code, false))
						text += fmt.Sprintf("published %s/%s version %d of brand %s (%s)\n", texts.KindName(c.Kind), c.Language,
							c.Version, b.Code, c.ID)
					}
				}
				if len(rows) == 0 {
					text = "every brand already has its texts; nothing published\n"
				}
				return r.emit(map[string]any{"published": rows}, text)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant id (required)")
	f.StringVar(&brand, "brand", "", "only this brand (default: every brand of the tenant)")
	requireFlags(cmd, "tenant")
	return cmd
}

package app

import (
	"log/slog"
	"time"

	"github.com/izinhq/izin/server/internal/importer"
	"github.com/izinhq/izin/server/internal/iyssync"
	"github.com/izinhq/izin/server/internal/outbox"
	"github.com/izinhq/izin/server/internal/sms"
	"github.com/izinhq/izin/server/internal/smsconfig"
	"github.com/izinhq/izin/server/internal/store/sqlstore"
	"github.com/izinhq/izin/server/internal/tenancy"
	"github.com/izinhq/izin/server/internal/texts"
)

// opsCacheTTL bounds how long an operator command trusts its tenant cache.
// A command is one short process, except a long import or pull, which
// should not re-read its brand for every row.
const opsCacheTTL = time.Minute

// Ops are the domain services the operator commands (the CLI) use over one
// open store: the CLI's one wiring point, as App is the server's. It has
// no API key cache (only a server caches keys), so nothing to purge.
type Ops struct {
	Store   *sqlstore.Store
	Tenancy *tenancy.Service
	Texts   *texts.Service
	cfg     Config
}

// NewOps wires the operator services over st.
func NewOps(cfg Config, st *sqlstore.Store) *Ops {
	ten := tenancy.New(st, nil, opsCacheTTL)
	return &Ops{Store: st, Tenancy: ten, Texts: texts.New(st, ten, time.Now), cfg: cfg}
}

// Importer is the historic import, queueing for İYS what its upload window
// still takes, as the server's does.
func (o *Ops) Importer() (*importer.Service, error) {
	opts, err := IYSOptions(o.cfg.IYS)
	if err != nil {
		return nil, err
	}
	return importer.New(o.Store, o.Tenancy, time.Now).WithWindow(opts.Calendar), nil
}

// Puller applies an İYS export file.
func (o *Ops) Puller() *iyssync.Puller {
	return iyssync.NewPuller(o.Store, o.Tenancy, time.Now)
}

// IYS is the İYS link's administration and its worker, sealing
// credentials with the server secret.
func (o *Ops) IYS(log *slog.Logger) (*iyssync.Service, *iyssync.Worker, error) {
	secret, err := LoadSecret(o.cfg)
	if err != nil {
		return nil, nil, err
	}
	svc, worker, _, err := newIYS(o.cfg, o.Store, o.Tenancy, secret, log)
	return svc, worker, err
}

// newIYS builds the İYS service and worker; the server and the CLI both
// come here, so they seal and schedule alike.
func newIYS(cfg Config, st *sqlstore.Store, ten *tenancy.Service, secret []byte, log *slog.Logger) (*iyssync.Service, *iyssync.Worker, iyssync.Options, error) {
	sealer, err := iyssync.NewSealer(secret)
	if err != nil {
		return nil, nil, iyssync.Options{}, err
	}
	opts, err := IYSOptions(cfg.IYS)
	if err != nil {
		return nil, nil, iyssync.Options{}, err
	}
	return iyssync.NewService(st, ten, sealer, opts), iyssync.NewWorker(st, ten, sealer, log, opts), opts, nil
}

// SMS is the administration of brands' SMS providers, sealing as the
// server does; its test messages are queued for the server's worker.
func (o *Ops) SMS() (*smsconfig.Service, error) {
	secret, err := LoadSecret(o.cfg)
	if err != nil {
		return nil, err
	}
	sealer, err := smsSealer(secret)
	if err != nil {
		return nil, err
	}
	q := outbox.NewQueue(sms.DefaultTemplates(), time.Now)
	if err := q.SetPublicURL(PublicURL(o.cfg)); err != nil {
		return nil, err
	}
	svc := smsconfig.New(o.Store, o.Tenancy, sealer, q.PublicURL, time.Now)
	svc.SetTester(o.Store, q)
	return svc, nil
}

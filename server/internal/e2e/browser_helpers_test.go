package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium through the DevTools protocol,
// as a phone: a 390×844 viewport, mobile and touch emulation, an iPhone user
// agent and a Turkish Accept-Language.

const (
	phoneWidth, phoneHeight = 390, 844
	phoneScale              = 2
	phoneUserAgent          = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 " +
		"(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	phoneLanguages = "tr-TR,tr;q=0.9,en;q=0.5"
	// browserStep bounds one browser action (a navigation, a click with
	// the page it loads, a wait for an element).
	browserStep = 30 * time.Second
)

// chromiumPath finds Chromium (IZIN_CHROMIUM overrides). Without it the
// test is skipped, except in CI, where a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}
	if p := os.Getenv("IZIN_CHROMIUM"); p != "" {
		candidates = []string{p}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("the browser tests need Chromium (tried %s); install it with "+
		"`apt-get install chromium` or scripts/ci-install-chromium.sh", strings.Join(candidates, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser is one Chromium process for one test function.
type browser struct {
	t     *testing.T
	ctx   context.Context // the browser's first tab
	shots string          // where screenshots go
}

// newBrowser starts a headless Chromium with a fresh profile and stops it
// when t ends.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	profile, err := os.MkdirTemp("", "izin-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "tr-TR"),
		chromedp.WindowSize(phoneWidth, phoneHeight),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	logs := &browserLog{t: t}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logs.printf))
	t.Cleanup(func() {
		// Close the browser gracefully, then wait for the process, so the
		// profile can go.
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		_ = chromedp.Cancel(cctx)
		cancel()
		cancelAlloc()
		logs.close()
		_ = os.RemoveAll(profile)
	})
	b := &browser{t: t, ctx: ctx, shots: screenshotDir(t)}
	// The first action on a context starts the browser (or opens the tab)
	// and ties it to the context it runs with: run it on ctx itself, not
	// on a context with a deadline.
	if err := chromedp.Do(ctx, emulatePhone()); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return b
}

// browserLog sends chromedp's error log to the test until it ends.
type browserLog struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
}

func (l *browserLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Logf("chromedp: "+format, args...)
	}
}

func (l *browserLog) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// emulatePhone makes a tab a phone. It is per tab.
func emulatePhone() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: phoneUserAgent, AcceptLanguage: phoneLanguages, Platform: "iPhone"}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: phoneWidth, Height: phoneHeight, DeviceScaleFactor: phoneScale, Mobile: true,
			ScreenOrientation: &emulation.ScreenOrientation{Type: emulation.ScreenOrientationTypePortraitPrimary},
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true})
		return err
	})
}

// screenshotDir is where a test's screenshots go: IZIN_SCREENSHOTS when
// set, else the test's artifact directory (kept with go test -artifacts).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("IZIN_SCREENSHOTS")
	if dir == "" {
		dir = t.ArtifactDir()
	} else {
		dir = filepath.Join(dir, t.Name())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot directory: %v", err)
	}
	t.Logf("screenshots: %s", dir)
	return dir
}

func (b *browser) run(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// tab is one browser tab, used by one goroutine.
type tab struct {
	b   *browser
	ctx context.Context
}

// mainTab is the browser's first tab.
func (b *browser) mainTab() *tab { return &tab{b: b, ctx: b.ctx} }

// newTab opens another tab of the browser (sharing its cookies), closed
// when t ends.
func (b *browser) newTab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, emulatePhone()); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return &tab{b: b, ctx: ctx}
}

// open loads url and returns the HTTP status of the page.
func (tb *tab) open(t *testing.T, url string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStep)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("open %s: %v", redactLink(url), err)
	}
	return res.Status
}

// submit clicks the button with id and returns the HTTP status of the page
// the form loads.
func (tb *tab) submit(t *testing.T, id string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStep)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("click #%s: %v", id, err)
	}
	return res.Status
}

// follow clicks a link (CSS selector) and returns the status of the page
// it loads.
func (tb *tab) follow(t *testing.T, sel string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStep)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("follow %s: %v", sel, err)
	}
	return res.Status
}

// tick clicks a checkbox's label, as a thumb would, and checks it took.
func (tb *tab) tick(t *testing.T, id string) {
	t.Helper()
	if err := tb.b.run(tb.ctx, chromedp.Click(chromedp.CSS(`label[for="`+id+`"]`))); err != nil {
		t.Fatalf("tick #%s: %v", id, err)
	}
	if !tb.checked(t, id) {
		t.Fatalf("#%s is not ticked after a tap on its label", id)
	}
}

// checked tells whether the checkbox with id is ticked.
func (tb *tab) checked(t *testing.T, id string) bool {
	t.Helper()
	return tb.eval(t, fmt.Sprintf(`document.getElementById(%q).checked`, id)) == "true"
}

// waitVisible waits until the element with id shows.
func (tb *tab) waitVisible(t *testing.T, id string) {
	t.Helper()
	if err := tb.b.run(tb.ctx, chromedp.WaitVisible(chromedp.ID(id))); err != nil {
		t.Fatalf("wait for #%s: %v\npage:\n%s", id, err, tb.bodyText(t))
	}
}

// eval evaluates a JavaScript expression through DevTools (the page itself
// runs none) and returns its value as text.
func (tb *tab) eval(t *testing.T, expr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return fmt.Sprint(v)
}

// bodyText is the text of the page as a reader sees it, with no-break
// spaces as plain spaces.
func (tb *tab) bodyText(t *testing.T) string {
	t.Helper()
	return strings.ReplaceAll(tb.eval(t, `document.body.innerText`), "\u00a0", " ")
}

// expectText checks the page shows each string.
func (tb *tab) expectText(t *testing.T, want ...string) {
	t.Helper()
	text := tb.bodyText(t)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the page does not show %q; it shows:\n%s", w, text)
		}
	}
}

// clearCookies forgets the browser's cookies.
func (tb *tab) clearCookies(t *testing.T) {
	t.Helper()
	err := tb.b.run(tb.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
	if err != nil {
		t.Fatalf("clear cookies: %v", err)
	}
}

// screenshot saves a full-page PNG as name.png, and also at each extra
// path given.
func (tb *tab) screenshot(t *testing.T, name string, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStep)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	paths := append([]string{filepath.Join(tb.b.shots, name+".png")}, extra...)
	for _, p := range paths {
		if p == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatalf("write screenshot: %v", err)
		}
	}
}

// readmeScreenshot is where IZIN_README_SCREENSHOT asks the consent page's
// screenshot to go (with suffix before the extension for the other pages),
// or "".
func readmeScreenshot(suffix string) string {
	p := os.Getenv("IZIN_README_SCREENSHOT")
	if p == "" {
		return ""
	}
	ext := filepath.Ext(p)
	return strings.TrimSuffix(p, ext) + suffix + ext
}

// redactLink hides the token of a page link, for messages.
func redactLink(u string) string {
	for _, p := range []string{"/l/", "/r/"} {
		if i := strings.Index(u, p); i >= 0 && len(u) >= i+3+16 {
			return u[:i+3] + strings.Repeat("*", 16) + u[i+3+16:]
		}
	}
	return u
}

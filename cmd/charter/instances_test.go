package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/app"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/auth"
	"github.com/charter-registry/charter/internal/config"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/packet"
	"github.com/charter-registry/charter/internal/store"
	"github.com/charter-registry/charter/internal/store/storetest"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pquerna/otp/totp"
)

// postgresForInstances is a fresh PostgreSQL schema's URL. It skips
// without CHARTER_TEST_POSTGRES_URL, and fails instead when
// CHARTER_REQUIRE_POSTGRES=1 (as .ci/run sets it): several instances only
// share a database on PostgreSQL.
func postgresForInstances(t *testing.T) string {
	t.Helper()
	if os.Getenv(storetest.PostgresEnv) == "" {
		if os.Getenv("CHARTER_REQUIRE_POSTGRES") == "1" {
			t.Fatal(storetest.PostgresEnv + " is not set but CHARTER_REQUIRE_POSTGRES=1: the multi-instance test needs PostgreSQL")
		}
		t.Skip(storetest.PostgresEnv + " is not set: skipping the multi-instance test, which needs PostgreSQL (.ci/run sets it)")
	}
	return storetest.PostgresURL(t)
}

// instance is one charter serve process with a data directory of its own,
// as a second machine has.
type instance struct {
	addr   string
	cmd    *exec.Cmd
	logs   *lockedBuffer
	exited chan struct{}
}

// instanceEnv is the environment of a process on the shared database,
// with the shared key files.
func instanceEnv(t *testing.T, databaseURL string, keyFiles [2]string) []string {
	return append(binaryEnv(t.TempDir()), "CHARTER_DATABASE_URL="+databaseURL, "CHARTER_SIGNING_KEY_FILE="+keyFiles[0],
		"CHARTER_MFA_KEY_FILE="+keyFiles[1], "CHARTER_MFA_REQUIRED_ROLES=none", "CHARTER_LEASE=5s")
}

// launch starts charter serve without waiting for it.
func launch(t *testing.T, bin, databaseURL string, keyFiles [2]string) *instance {
	t.Helper()
	in := &instance{addr: freePort(t), logs: &lockedBuffer{}, exited: make(chan struct{})}
	in.cmd = exec.Command(bin, "serve", "--addr", in.addr)
	in.cmd.Env = instanceEnv(t, databaseURL, keyFiles)
	in.cmd.Stdout, in.cmd.Stderr = in.logs, in.logs
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = in.cmd.Wait(); close(in.exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
		<-in.exited
	})
	return in
}

// waitReady waits for the instance's /readyz to answer 200.
func (in *instance) waitReady(t *testing.T) {
	t.Helper()
	for deadline := testDeadline(t); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + in.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-in.exited:
			t.Fatalf("instance on %s exited before it was ready:\n%s", in.addr, in.logs.String())
		default:
		}
	}
	t.Fatalf("instance on %s did not become ready:\n%s", in.addr, in.logs.String())
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Issue 20, item 5: two instances on one PostgreSQL database, each with a
// data directory of its own and the same key files, behave as one.
func TestSeveralInstancesOnOnePostgreSQL(t *testing.T) {
	databaseURL := postgresForInstances(t)
	bin := buildCharter(t)
	keyDir := t.TempDir()
	keyFiles := [2]string{writeKey(t, keyDir, "signing.key"), writeKey(t, keyDir, "mfa.key")}

	// Started at once on an empty database.
	a, b := launch(t, bin, databaseURL, keyFiles), launch(t, bin, databaseURL, keyFiles)
	a.waitReady(t)
	b.waitReady(t)
	var password string
	for _, in := range []*instance{a, b} {
		if m := passwordLine.FindStringSubmatch(in.logs.String()); m != nil {
			password = m[1]
		}
	}
	if password == "" {
		t.Fatalf("no first admin's password in either instance's output:\n%s\n%s", a.logs.String(), b.logs.String())
	}
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = instanceEnv(t, databaseURL, keyFiles)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("charter %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	token := regexp.MustCompile(`charter_\S+`).FindString(cli("token", "create", "--email", "admin@example.com", "--name", "instances"))
	if token == "" {
		t.Fatal("no API token")
	}

	t.Run("a session made on one instance holds on the other", func(t *testing.T) {
		resp, err := noRedirects.Get("http://" + a.addr + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var csrf *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "charter_csrf" {
				csrf = c
			}
		}
		if csrf == nil {
			t.Fatalf("no CSRF cookie on /login: %v", resp.Cookies())
		}
		form := url.Values{"email": {"admin@example.com"}, "password": {password}, "csrf": {csrf.Value}}
		req, _ := http.NewRequest(http.MethodPost, "http://"+a.addr+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(csrf)
		resp, err = noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app/" {
			t.Fatalf("sign-in on the first instance: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		req, _ = http.NewRequest(http.MethodGet, "http://"+b.addr+"/app/", nil)
		for _, c := range resp.Cookies() {
			req.AddCookie(c)
		}
		resp, err = noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("admin@example.com")) && !bytes.Contains(page, []byte("Administrator")) {
			t.Fatalf("the session on the second instance: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("a second factor enrolled elsewhere is read by an instance", func(t *testing.T) {
		// Enrolled by another process holding the same MFA key file (as
		// an enrolment through the other instance would be), then used to
		// sign in on the second instance.
		svc := sharedServices(t, databaseURL, keyFiles)
		ctx := context.Background()
		by := audit.System("test")
		const pw = "a long unusual passphrase"
		u, err := svc.Users.Create(ctx, by, auth.NewUser{Email: "mfa@example.com", Name: "Two Factor", Role: auth.Editor, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		en, err := svc.Users.BeginEnrolment(u, "Charter")
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(en.Secret, time.Now())
		if _, err := svc.Users.ConfirmEnrolment(ctx, by, u.ID, pw, en.Sealed, code); err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: noRedirects.CheckRedirect}
		base := "http://" + b.addr
		post := func(path string, form url.Values) *http.Response {
			t.Helper()
			u, _ := url.Parse(base)
			for _, c := range jar.Cookies(u) {
				if c.Name == "charter_csrf" {
					form.Set("csrf", c.Value)
				}
			}
			resp, err := client.PostForm(base+path, form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		if resp, err := client.Get(base + "/login"); err != nil {
			t.Fatal(err)
		} else {
			resp.Body.Close()
		}
		if resp := post("/login", url.Values{"email": {"mfa@example.com"}, "password": {pw}}); resp.Header.Get("Location") != "/login/mfa" {
			t.Fatalf("password step on the second instance: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		next, _ := totp.GenerateCode(en.Secret, time.Now().Add(30*time.Second))
		if resp := post("/login/mfa", url.Values{"code": {next}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app/" {
			t.Fatalf("TOTP step on the second instance: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("a file uploaded on one instance downloads from the other", func(t *testing.T) {
		resp, err := http.DefaultClient.Do(jsonRequest(http.MethodPost, "http://"+a.addr+"/api/v1/dpas", token,
			`{"direction":"customer","counterparty":"Acme","contact_email":"legal@acme.example","domain":"acme.example","status":"requested"}`))
		if err != nil {
			t.Fatal(err)
		}
		var dpa struct{ ID int64 }
		json.NewDecoder(resp.Body).Decode(&dpa)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || dpa.ID == 0 {
			t.Fatalf("creating a DPA: %d", resp.StatusCode)
		}
		content := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("signed by both parties\n"), 60000)...)
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		fw, _ := w.CreateFormFile("file", "signed.pdf")
		fw.Write(content)
		w.Close()
		path := fmt.Sprintf("/api/v1/dpas/%d/file", dpa.ID)
		req, _ := http.NewRequest(http.MethodPut, "http://"+a.addr+path, &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("upload on the first instance: %d", resp.StatusCode)
		}
		req, _ = http.NewRequest(http.MethodGet, "http://"+b.addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, content) {
			t.Fatalf("download from the second instance: %d, %d bytes of %d", resp.StatusCode, len(got), len(content))
		}
	})

	t.Run("a packet approved on one instance verifies from the other", func(t *testing.T) {
		link := approvedPacket(t, a, databaseURL, keyFiles, token)
		get := func(in *instance, path string) []byte {
			t.Helper()
			resp, err := http.Get("http://" + in.addr + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s on %s: %d %s", path, in.addr, resp.StatusCode, data)
			}
			return data
		}
		for _, pair := range [][2]*instance{{a, b}, {b, a}} {
			manifest, sig := get(pair[0], link+"/manifest.json"), get(pair[0], link+"/manifest.sig")
			block, _ := pem.Decode(get(pair[1], "/trust/signing-key.pem"))
			if block == nil {
				t.Fatal("no PEM block in /trust/signing-key.pem")
			}
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !ed25519.Verify(pub.(ed25519.PublicKey), manifest, sig) {
				t.Fatalf("the manifest served by %s does not verify with the key %s publishes", pair[0].addr, pair[1].addr)
			}
		}
	})

	t.Run("each scheduled job runs once with both instances up", func(t *testing.T) {
		db, err := sql.Open("pgx", databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for deadline := testDeadline(t); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var running int
			if err := db.QueryRow("SELECT COUNT(*) FROM job_runs WHERE finished_at IS NULL").Scan(&running); err == nil && running == 0 {
				break
			}
		}
		rows, err := db.Query("SELECT job, COUNT(*), COUNT(finished_at) FROM job_runs GROUP BY job ORDER BY job")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		logs := a.logs.String() + b.logs.String()
		jobs := 0
		for rows.Next() {
			var job string
			var runs, finished int
			if err := rows.Scan(&job, &runs, &finished); err != nil {
				t.Fatal(err)
			}
			jobs++
			done := regexp.MustCompile(`msg="job (done|failed)" job=`+regexp.QuoteMeta(job)+` `).FindAllString(logs, -1)
			if runs != 1 || finished != 1 || len(done) != 1 {
				t.Errorf("%s: %d runs recorded (%d finished), %d reported done by the instances; want one", job, runs, finished, len(done))
			}
		}
		if jobs < 3 {
			t.Fatalf("%d scheduled jobs ran; want every one", jobs)
		}
	})

	t.Run("one instance killed mid-write, the other carries on and the audit trail verifies", func(t *testing.T) {
		var confirmed atomic.Int64
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code, err := putEmployee(client, b.addr, token, fmt.Sprintf("kill%03d@example.com", i), "Written before the kill")
				if err != nil {
					return
				}
				if code == http.StatusOK || code == http.StatusCreated {
					confirmed.Add(1)
				}
			}
		}()
		for deadline := testDeadline(t); confirmed.Load() < 20 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.exited
		close(stop)
		wg.Wait()
		n := int(confirmed.Load())
		for i := range n {
			resp, err := http.DefaultClient.Do(jsonRequest(http.MethodGet, fmt.Sprintf("http://%s/api/v1/employees/kill%03d@example.com", a.addr, i), token, ""))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("a write confirmed by the killed instance is missing on the other: kill%03d: %d", i, resp.StatusCode)
			}
		}
		for i := range 10 {
			if code, err := putEmployee(http.DefaultClient, a.addr, token, fmt.Sprintf("after%03d@example.com", i), "Written after the kill"); err != nil || (code != http.StatusOK && code != http.StatusCreated) {
				t.Fatalf("a write on the surviving instance: %d %v", code, err)
			}
		}
		if resp, err := http.Get("http://" + a.addr + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("the surviving instance is not ready: %v %v", resp, err)
		}
		if out := cli("audit", "verify"); !strings.Contains(out, "ok") || strings.Contains(out, "FAILED") {
			t.Fatalf("audit verify: %s", out)
		}
		t.Logf("%d writes confirmed before the kill", n)
	})

	t.Run("an instance with other keys refuses to start, naming the key", func(t *testing.T) {
		for _, c := range []struct {
			name string
			keys [2]string
			want string
		}{
			{"signing", [2]string{writeKey(t, keyDir, "other-signing.key"), keyFiles[1]}, "the signing key"},
			{"mfa", [2]string{keyFiles[0], writeKey(t, keyDir, "other-mfa.key")}, "the MFA key"},
		} {
			other := launch(t, bin, databaseURL, c.keys)
			select {
			case <-other.exited:
			case <-time.After(time.Until(testDeadline(t))):
				t.Fatalf("an instance with another %s key kept running:\n%s", c.name, other.logs.String())
			}
			if logs := other.logs.String(); other.cmd.ProcessState.ExitCode() == 0 || !strings.Contains(logs, c.want) ||
				!strings.Contains(logs, "differs from the one this database was set up with") {
				t.Fatalf("an instance with another %s key: exit %d\n%s", c.name, other.cmd.ProcessState.ExitCode(), logs)
			}
		}
	})

	t.Run("after a rotation the instance with the old key is not ready", func(t *testing.T) {
		cli("audit", "rotate-key", "--new-key", keyDir+"/rotated-signing.key")
		resp, err := http.Get("http://" + a.addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"key":"signing"`) {
			t.Fatalf("readyz with the old signing key after the rotation: %d %s", resp.StatusCode, body)
		}
		rotated := launch(t, bin, databaseURL, [2]string{keyDir + "/rotated-signing.key", keyFiles[1]})
		rotated.waitReady(t)
		if out := cli("audit", "verify"); strings.Contains(out, "FAILED") {
			t.Fatalf("audit verify after the rotation: %s", out)
		}
	})
}

// sharedServices are the services of a process on the shared database
// with the shared key files, closed after t.
func sharedServices(t *testing.T, databaseURL string, keyFiles [2]string) *app.App {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir, cfg.DatabaseURL, cfg.SigningKeyFile, cfg.MFAKeyFile = t.TempDir(), databaseURL, keyFiles[0], keyFiles[1]
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc, err := app.New(cfg, st, app.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// approvedPacket requests a packet and confirms the address through the
// services (what a visitor does on the public page), approves it through
// the API of in, and accepts the NDA; it returns the link's path.
func approvedPacket(t *testing.T, in *instance, databaseURL string, keyFiles [2]string, token string) string {
	t.Helper()
	ctx := context.Background()
	svc := sharedServices(t, databaseURL, keyFiles)
	st := svc.Store
	const email = "dana@customer.example"
	from := audit.Actor{Label: "anonymous", IP: "203.0.113.5"}
	if _, err := svc.Packets.Submit(ctx, from, packet.RequestInput{Name: "Dana Reviewer", Email: email, Company: "Customer Ltd", NDAVersion: 1, AcceptNDA: true}); err != nil {
		t.Fatal(err)
	}
	lastBody := func(kind string) string {
		t.Helper()
		q := st.DB.Where("to_addr = ?", email)
		if kind != "" {
			q = q.Where("kind = ?", kind)
		}
		var m notify.Message
		if err := q.Order("id DESC").Take(&m).Error; err != nil {
			t.Fatalf("no email to %s: %v", email, err)
		}
		return m.Body
	}
	confirm := regexp.MustCompile(`/trust/request/confirm/([A-Za-z0-9_-]{43})`).FindStringSubmatch(lastBody(""))
	if confirm == nil {
		t.Fatal("no confirmation link")
	}
	r, _, err := svc.Packets.Confirm(ctx, from, confirm[1])
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(jsonRequest(http.MethodPost, fmt.Sprintf("http://%s/api/v1/packet-requests/%d/approve", in.addr, r.ID), token, `{"expiry_days":30}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approving on %s: %d", in.addr, resp.StatusCode)
	}
	link := regexp.MustCompile(`/p/[A-Za-z0-9_-]{43}`).FindString(lastBody("packet_approved"))
	if link == "" {
		t.Fatal("no packet link in the approval email")
	}
	if err := svc.Packets.AcceptNDA(ctx, from, link[len("/p/"):], 1, true); err != nil {
		t.Fatal(err)
	}
	return link
}

// Issue 20: three instances started at the same moment on an empty
// database all come up ready, ten times in a row: one migrates and seeds,
// the others wait for it, and exactly one first admin is made.
func TestThreeInstancesStartTogetherOnAnEmptyDatabase(t *testing.T) {
	postgresForInstances(t)
	bin := buildCharter(t)
	keyDir := t.TempDir()
	keyFiles := [2]string{writeKey(t, keyDir, "signing.key"), writeKey(t, keyDir, "mfa.key")}
	for round := 1; round <= 10; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			databaseURL := storetest.PostgresURL(t)
			three := []*instance{launch(t, bin, databaseURL, keyFiles), launch(t, bin, databaseURL, keyFiles), launch(t, bin, databaseURL, keyFiles)}
			admins := 0
			for _, in := range three {
				in.waitReady(t)
				if passwordLine.MatchString(in.logs.String()) {
					admins++
				}
			}
			if admins != 1 {
				t.Fatalf("%d instances made a first admin, want 1", admins)
			}
			// Stopped before the next round, so that at most three run.
			for _, in := range three {
				_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
				<-in.exited
			}
		})
	}
}

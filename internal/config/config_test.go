package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/charter-registry/charter/internal/config"
	"github.com/spf13/pflag"
)

func parse(t *testing.T, args []string, env map[string]string) (config.Config, error) {
	t.Helper()
	c := config.Defaults()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	b := config.NewBinder(fs)
	b.StoreFlags(&c)
	b.ServeFlags(&c)
	b.PeopleFlags(&c)
	b.MailFlags(&c)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := b.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		return c, err
	}
	return c, c.Finish()
}

func TestFlagsWinOverVariablesWhichWinOverDefaults(t *testing.T) {
	c, err := parse(t, []string{"--addr", ":9000"}, map[string]string{
		"CHARTER_ADDR": ":7000", "CHARTER_DATA_DIR": "/srv/charter", "CHARTER_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.0.0/16",
		"CHARTER_SESSION_IDLE_TIMEOUT": "15m", "CHARTER_REMINDERS": "false",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9000" || c.DataDir != "/srv/charter" || c.DatabaseURL != "sqlite:///srv/charter/charter.db" ||
		len(c.TrustedProxies) != 2 || c.SessionIdleTimeout != 15*time.Minute || c.Reminders || c.SessionLifetime != 12*time.Hour {
		t.Fatalf("config: %+v", c)
	}
	if c.Secure() {
		t.Fatal("http base URL reported as secure")
	}
}

func TestPublicFormLimitsFromVariables(t *testing.T) {
	c, err := parse(t, nil, map[string]string{
		"CHARTER_PUBLIC_FORMS_PER_HOUR": "40", "CHARTER_PUBLIC_FORMS_PER_ADDRESS_PER_HOUR": "5", "CHARTER_PUBLIC_FORMS_PER_ADDRESS_PER_DAY": "12",
		"CHARTER_PUBLIC_FORMS_PER_FORM_PER_HOUR": "500", "CHARTER_UNCONFIRMED_RETENTION": "336h",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicFormsPerHour != 40 || c.PublicFormsPerAddressPerHour != 5 || c.PublicFormsPerAddressPerDay != 12 ||
		c.PublicFormsPerFormPerHour != 500 || c.UnconfirmedRetention != 14*24*time.Hour {
		t.Fatalf("config: %+v", c)
	}
	d := config.Defaults()
	if d.PublicFormsPerHour != 20 || d.PublicFormsPerAddressPerHour != 3 || d.PublicFormsPerAddressPerDay != 10 ||
		d.PublicFormsPerFormPerHour != 300 || d.UnconfirmedRetention != 7*24*time.Hour {
		t.Fatalf("defaults: %+v", d)
	}
}

func TestBadSettingsNameTheSetting(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CHARTER_LOG_LEVEL": "loud"}, "log-level"},
		{map[string]string{"CHARTER_LOG_FORMAT": "xml"}, "log-format"},
		{map[string]string{"CHARTER_BASE_URL": "localhost"}, "base-url"},
		{map[string]string{"CHARTER_TRUSTED_PROXIES": "10.0.0.1"}, "trusted-proxies"},
		{map[string]string{"CHARTER_SESSION_IDLE_TIMEOUT": "13h"}, "session-idle-timeout"},
		{map[string]string{"CHARTER_ACK_LINK_TTL": "2400h"}, "ack-link-ttl"},
		{map[string]string{"CHARTER_ACK_DUE_NEW_HIRE_DAYS": "-1"}, "ack-due-new-hire-days"},
		{map[string]string{"CHARTER_SMTP_HOST": "smtp.example.com"}, "smtp-from"},
		{map[string]string{"CHARTER_SMTP_HOST": "smtp.example.com", "CHARTER_SMTP_FROM": "a@example.com", "CHARTER_SMTP_TLS": "ssl3"}, "smtp-tls"},
		{map[string]string{"CHARTER_SESSION_LIFETIME": "soon"}, "CHARTER_SESSION_LIFETIME"},
		{map[string]string{"CHARTER_PASSWORD_RESET_TTL": "30s"}, "password-reset-ttl"},
		{map[string]string{"CHARTER_PASSWORD_RESET_TTL": "48h"}, "password-reset-ttl"},
		{map[string]string{"CHARTER_METRICS_TOKEN": "short"}, "metrics-token"},
		{map[string]string{"CHARTER_METRICS_TOKEN": "a token with spaces in it"}, "metrics-token"},
		{map[string]string{"CHARTER_METRICS_ADDR": "9090"}, "metrics-addr"},
		{map[string]string{"CHARTER_ADDR": ":9090", "CHARTER_METRICS_ADDR": ":9090"}, "metrics-addr"},
		{map[string]string{"CHARTER_PUBLIC_FORMS_PER_HOUR": "0"}, "public-forms-per-hour"},
		{map[string]string{"CHARTER_PUBLIC_FORMS_PER_ADDRESS_PER_HOUR": "0"}, "public-forms-per-address-per-hour"},
		{map[string]string{"CHARTER_PUBLIC_FORMS_PER_ADDRESS_PER_DAY": "2"}, "public-forms-per-address-per-day"},
		{map[string]string{"CHARTER_PUBLIC_FORMS_PER_FORM_PER_HOUR": "10001"}, "public-forms-per-form-per-hour"},
		{map[string]string{"CHARTER_UNCONFIRMED_RETENTION": "24h"}, "unconfirmed-retention"},
	}
	for _, c := range cases {
		if _, err := parse(t, nil, c.env); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want mention of %s", c.env, err, c.want)
		}
	}
}

func TestMetricsSettings(t *testing.T) {
	c, err := parse(t, []string{"--metrics-token", "0123456789abcdef0123"}, map[string]string{"CHARTER_METRICS_ADDR": "127.0.0.1:9090"})
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsToken != "0123456789abcdef0123" || c.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("metrics settings: %q %q", c.MetricsToken, c.MetricsAddr)
	}
	if c, err := parse(t, nil, nil); err != nil || c.MetricsToken != "" || c.MetricsAddr != "" {
		t.Fatalf("defaults: %q %q %v", c.MetricsToken, c.MetricsAddr, err)
	}
}

package privacy

import (
	"context"
	"fmt"
	"strconv"

	"github.com/charter-registry/charter/internal/audit"
	"gopkg.in/yaml.v3"
)

type demoDPA struct {
	Counterparty       string   `yaml:"counterparty"`
	ContactEmail       string   `yaml:"contact_email"`
	Domain             string   `yaml:"domain"`
	Status             string   `yaml:"status"`
	SignedOn           string   `yaml:"signed_on"`
	TemplateVersion    string   `yaml:"template_version"`
	DataRegion         string   `yaml:"data_region"`
	TransferMechanisms []string `yaml:"transfer_mechanisms"`
	SCCModules         []string `yaml:"scc_modules"`
	NoticeDays         string   `yaml:"notice_days"`
}

func (d demoDPA) input(direction string) DPAInput {
	in := DPAInput{Direction: direction, Counterparty: d.Counterparty, ContactEmail: d.ContactEmail, Domain: d.Domain,
		Status: d.Status, SignedOn: d.SignedOn, TemplateVersion: d.TemplateVersion, DataRegion: d.DataRegion,
		TransferMechanisms: d.TransferMechanisms, SCCModules: d.SCCModules, NoticeDays: d.NoticeDays}
	if in.Status == "" {
		in.Status = Signed
	}
	return in
}

type demoFile struct {
	VendorDPAs    []demoDPA `yaml:"vendor_dpas"`
	Subprocessors []struct {
		Name              string   `yaml:"name"`
		Purpose           string   `yaml:"purpose"`
		DataCategories    []string `yaml:"data_categories"`
		Countries         []string `yaml:"countries"`
		TransferMechanism string   `yaml:"transfer_mechanism"`
		Website           string   `yaml:"website"`
		VendorDPA         string   `yaml:"vendor_dpa"`
		// ActiveSince is when the vendor started processing data.
		ActiveSince string `yaml:"active_since"`
	} `yaml:"subprocessors"`
	CustomerDPAs []demoDPA `yaml:"customer_dpas"`
}

// SeedDemo loads demo DPAs and sub-processors (seed/privacy-demo.yaml)
// into empty registers, through the same checks as the dashboard. It
// reports whether it loaded anything.
func (s *Service) SeedDemo(ctx context.Context, by audit.Actor, data []byte) (bool, error) {
	var f demoFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return false, fmt.Errorf("demo privacy registers: %w", err)
	}
	var n int64
	if err := s.db.WithContext(ctx).Model(&DPA{}).Count(&n).Error; err != nil || n > 0 {
		return false, err
	}
	if err := s.db.WithContext(ctx).Model(&Subprocessor{}).Count(&n).Error; err != nil || n > 0 {
		return false, err
	}
	vendors := map[string]int64{}
	for _, d := range f.VendorDPAs {
		created, err := s.CreateDPA(ctx, by, d.input(Vendor))
		if err != nil {
			return false, fmt.Errorf("demo vendor DPA %s: %w", d.Counterparty, err)
		}
		vendors[d.Counterparty] = created.ID
	}
	for _, p := range f.Subprocessors {
		in := SubprocessorInput{Name: p.Name, Purpose: p.Purpose, DataCategories: joinComma(p.DataCategories),
			Countries: joinComma(p.Countries), TransferMechanism: p.TransferMechanism, Website: p.Website, InUse: true, ActiveSince: p.ActiveSince}
		if id, ok := vendors[p.VendorDPA]; ok {
			in.VendorDPAID = strconv.FormatInt(id, 10)
		}
		if _, err := s.CreateSubprocessor(ctx, by, in); err != nil {
			return false, fmt.Errorf("demo sub-processor %s: %w", p.Name, err)
		}
	}
	for _, d := range f.CustomerDPAs {
		if _, err := s.CreateDPA(ctx, by, d.input(Customer)); err != nil {
			return false, fmt.Errorf("demo customer DPA %s: %w", d.Counterparty, err)
		}
	}
	return true, nil
}

func joinComma(items []string) string {
	out := ""
	for i, it := range items {
		if i > 0 {
			out += ", "
		}
		out += it
	}
	return out
}

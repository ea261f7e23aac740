package privacy

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charter-registry/charter/internal/apperr"
	"github.com/charter-registry/charter/internal/audit"
	"github.com/charter-registry/charter/internal/notify"
	"github.com/charter-registry/charter/internal/sharelink"
	"github.com/charter-registry/charter/internal/store"
	"gorm.io/gorm"
)

// Signature statuses: a signature counts once its signer has confirmed
// their address.
const (
	SignatureUnconfirmed = "unconfirmed"
	SignatureSigned      = "signed"
)

// SignatureLinkPurpose is the share-link purpose of the confirmation
// links; SignatureLinkTTL how long they work.
const (
	SignatureLinkPurpose = "dpa_signature_confirmation"
	SignatureLinkTTL     = 7 * 24 * time.Hour
)

// SignableSCCModules are the SCC modules a customer may choose when
// signing the standard DPA: the customer is a controller (module 2) or
// itself a processor (module 3); "" means no restricted transfer.
var SignableSCCModules = []struct{ Code, Label string }{
	{"2", "Module 2: controller to processor"},
	{"3", "Module 3: processor to processor"},
	{"", "None: no restricted transfer"},
}

// SCCModuleLabel returns the label of a signable module code.
func SCCModuleLabel(code string) string {
	for _, m := range SignableSCCModules {
		if m.Code == code {
			return m.Label
		}
	}
	return code
}

// DPASignature is a customer's signature of a version of the standard
// DPA, and, once signed, the countersignature: the PDF's SHA-256 and its
// Ed25519 signature by the company's key.
type DPASignature struct {
	ID                int64
	VersionID         int64
	Status            string
	SignerName        string
	SignerTitle       string
	SignerEmail       string
	Company           string
	Domain            string
	DataRegion        string
	TransferMechanism string
	SCCModule         string `gorm:"column:scc_module"`
	RequestedAt       time.Time
	RequestedIP       string `gorm:"column:requested_ip"`
	UserAgent         string
	SignedAt          *time.Time
	SignedIP          string `gorm:"column:signed_ip"`
	CountersignedBy   string
	DPAID             *int64 `gorm:"column:dpa_id"`
	PDFSHA256         string `gorm:"column:pdf_sha256"`
	PDFSignature      string `gorm:"column:pdf_signature"`
	SignedKey         *string
}

// TableName is the signatures table.
func (DPASignature) TableName() string { return "dpa_signatures" }

// signedKey is what makes a signature unique: one company (by domain)
// signs one version once.
func signedKey(domain string, version int) string { return domain + "#" + strconv.Itoa(version) }

// signatureState is what the audit trail records of a signature.
type signatureState struct {
	Version           int        `json:"version"`
	Status            string     `json:"status"`
	SignerName        string     `json:"signer_name"`
	SignerTitle       string     `json:"signer_title"`
	SignerEmail       string     `json:"signer_email"`
	Company           string     `json:"company"`
	Domain            string     `json:"domain"`
	DataRegion        string     `json:"data_region"`
	TransferMechanism string     `json:"transfer_mechanism"`
	SCCModule         string     `json:"scc_module"`
	SignedAt          *time.Time `json:"signed_at,omitempty"`
	SignedIP          string     `json:"signed_ip,omitempty"`
	DPAID             *int64     `json:"dpa_id,omitempty"`
	PDFSHA256         string     `json:"pdf_sha256,omitempty"`
}

func stateOfSignature(sig *DPASignature, version int) signatureState {
	return signatureState{Version: version, Status: sig.Status, SignerName: sig.SignerName, SignerTitle: sig.SignerTitle,
		SignerEmail: sig.SignerEmail, Company: sig.Company, Domain: sig.Domain, DataRegion: sig.DataRegion,
		TransferMechanism: sig.TransferMechanism, SCCModule: sig.SCCModule, SignedAt: sig.SignedAt, SignedIP: sig.SignedIP,
		DPAID: sig.DPAID, PDFSHA256: sig.PDFSHA256}
}

// SignatureInput is the signing form on /trust/dpa.
type SignatureInput struct {
	// Version is the number of the version shown with the form.
	Version           string `validate:"required"`
	SignerName        string `validate:"required,max=200"`
	SignerTitle       string `validate:"required,max=200"`
	Company           string `validate:"required,max=200"`
	Email             string `validate:"required,address"`
	DataRegion        string // one of the profile's hosting regions, when it lists any
	TransferMechanism string // one of the profile's transfer mechanisms, when it lists any
	SCCModule         string // a code of SignableSCCModules
	// Authority is the box "I have authority to sign on behalf of the
	// company".
	Authority bool `validate:"required"`
}

var versionNumberPattern = regexp.MustCompile(`^[1-9][0-9]{0,8}$`)

// errAlreadySigned refuses a second signature of one version by one
// company (409), saying when the first was given.
func errAlreadySigned(company string, version int, on time.Time) error {
	return apperr.New(apperr.Conflict, fmt.Sprintf("%s already signed version %d of the standard DPA on %s; the countersigned copy was emailed to its signer. Nothing more is needed.",
		company, version, on.UTC().Format(time.DateOnly)))
}

// existingSignature returns the signed signature of domain for a version,
// or nil.
func existingSignature(tx *gorm.DB, domain string, version int) (*DPASignature, error) {
	var sig DPASignature
	err := tx.Where("signed_key = ?", signedKey(domain, version)).Take(&sig).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &sig, err
}

// RequestSignature records a customer's signature of the published
// standard DPA and emails the signer a link to confirm it; it counts only
// once confirmed. Errors: Invalid naming each field ("email" alone for a
// free-mail address; "version" when the version is not the one in
// force), ErrNoPublishedDPA, Conflict when the company already signed
// this version.
func (s *Service) RequestSignature(ctx context.Context, from audit.Actor, in SignatureInput) (*DPASignature, error) {
	email := notify.NormalizeAddress(in.Email)
	workEmail := s.settings.WorkEmail.Check("email", email)
	in = SignatureInput{Version: strings.TrimSpace(in.Version), SignerName: strings.TrimSpace(in.SignerName),
		SignerTitle: strings.TrimSpace(in.SignerTitle), Company: strings.TrimSpace(in.Company), Email: email,
		DataRegion: strings.TrimSpace(in.DataRegion), TransferMechanism: strings.TrimSpace(in.TransferMechanism),
		SCCModule: strings.TrimSpace(in.SCCModule), Authority: in.Authority}
	errs := s.check.Struct(in)
	// Every problem at once; the work-address rule's message is the more
	// precise one (no @, or which free-mail provider).
	if ae, ok := apperr.As(workEmail); ok && email != "" {
		errs["email"] = ae.Fields["email"]
	} else if errs.Has("email") {
		errs["email"] = "must be your work email address"
	}
	if errs.Has("authority") {
		errs["authority"] = "must be confirmed: tick the box if you may sign on behalf of the company"
	}
	o, err := s.orgs.Current(ctx)
	if err != nil {
		return nil, err
	}
	if regions := o.Regions(); len(regions) > 0 && !slices.Contains(regions, in.DataRegion) {
		errs.Add("data_region", "must be one of the hosting regions listed")
	}
	if mechs := o.Mechanisms(); len(mechs) > 0 && !slices.Contains(mechs, in.TransferMechanism) {
		errs.Add("transfer_mechanism", "choose one of the transfer mechanisms listed")
	}
	if !slices.ContainsFunc(SignableSCCModules, func(m struct{ Code, Label string }) bool { return m.Code == in.SCCModule }) {
		errs.Add("scc_module", "must be module 2 (you are a controller), module 3 (you are a processor) or none")
	}
	company, err := s.company(ctx)
	if err != nil {
		return nil, err
	}
	var sig DPASignature
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		current, err := currentStandardDPA(tx)
		if err != nil {
			return err
		}
		switch number, _ := strconv.Atoi(in.Version); {
		case errs.Has("version"):
		case !versionNumberPattern.MatchString(in.Version):
			errs.Add("version", "is not a version of the standard DPA")
		case number != current.Number:
			errs.Add("version", fmt.Sprintf("is not the version in force: version %d was published while you were reading; please read it and sign again", current.Number))
		}
		if err := errs.Err(); err != nil {
			return err
		}
		domain := EmailDomain(email)
		if prior, err := existingSignature(tx, domain, current.Number); err != nil {
			return err
		} else if prior != nil {
			return errAlreadySigned(prior.Company, current.Number, *prior.SignedAt)
		}
		now := s.clock()
		sig = DPASignature{VersionID: current.ID, Status: SignatureUnconfirmed, SignerName: in.SignerName, SignerTitle: in.SignerTitle,
			SignerEmail: email, Company: in.Company, Domain: domain, DataRegion: in.DataRegion, TransferMechanism: in.TransferMechanism,
			SCCModule: in.SCCModule, RequestedAt: now, RequestedIP: from.IP, UserAgent: from.UserAgent}
		if err := tx.Create(&sig).Error; err != nil {
			return err
		}
		token, _, err := sharelink.Issue(tx, now, SignatureLinkPurpose, sig.ID, SignatureLinkTTL)
		if err != nil {
			return err
		}
		mail := notify.DPASignatureConfirmation{Name: sig.SignerName, Company: company, Customer: sig.Company, Version: current.Number,
			Link: s.link("/trust/dpa/sign/confirm/" + token)}
		if _, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), email, mail); err != nil {
			return err
		}
		by := from
		by.Label = "signer:" + email
		return audit.Append(tx, by, audit.Entry{At: now, Action: "dpa_signature.requested", ObjectType: "dpa_signature",
			ObjectID: strconv.FormatInt(sig.ID, 10), After: stateOfSignature(&sig, current.Number)})
	})
	if err != nil {
		return nil, err
	}
	return &sig, nil
}

// PendingSignature is a signature waiting for its confirmation, with the
// version it signs, for the confirmation page.
type PendingSignature struct {
	Signature DPASignature
	Version   StandardDPAVersion
}

// SignatureToConfirm returns the signature a live confirmation link is
// for. Errors: those of sharelink.Resolve (dead or unknown link).
func (s *Service) SignatureToConfirm(ctx context.Context, token string) (*PendingSignature, error) {
	db := s.db.WithContext(ctx)
	l, err := sharelink.Resolve(db, s.clock(), SignatureLinkPurpose, token)
	if err != nil {
		return nil, err
	}
	var p PendingSignature
	if err := db.Take(&p.Signature, l.SubjectID).Error; err != nil {
		return nil, err
	}
	return &p, db.Take(&p.Version, p.Signature.VersionID).Error
}

// countersignedName keeps a company's name to the letters and digits that
// are safe in a file name.
var countersignedName = regexp.MustCompile(`[^a-z0-9]+`)

// ConfirmSignature counts a signature: in one transaction it records the
// signed agreement in the DPA register (status signed, the version, the
// signer, the region and transfer mechanism, the countersigned PDF as its
// file), the countersignature, the audit events and the email that sends
// the signer the countersigned PDF. Errors: those of sharelink.Resolve
// (dead or unknown link), Conflict when the company already signed this
// version (nothing is recorded; when two confirmations race, the loser's
// rendered PDF stays unreferenced in the content-addressed file store).
func (s *Service) ConfirmSignature(ctx context.Context, from audit.Actor, token string) (*DPASignature, *DPA, error) {
	pending, err := s.SignatureToConfirm(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	sig, version := pending.Signature, pending.Version
	if sig.Status != SignatureUnconfirmed {
		return nil, nil, sharelink.ErrDead
	}
	o, err := s.orgs.Current(ctx)
	if err != nil {
		return nil, nil, err
	}
	company, err := s.company(ctx)
	if err != nil {
		return nil, nil, err
	}
	if prior, err := existingSignature(s.db.WithContext(ctx), sig.Domain, version.Number); err != nil {
		return nil, nil, err
	} else if prior != nil {
		return nil, nil, errAlreadySigned(prior.Company, version.Number, *prior.SignedAt)
	}
	now := s.clock()
	doc := Countersigned{Company: company, Website: o.Website, Version: version.Number, TextSHA256: version.SHA256, Body: version.Body,
		SignerName: sig.SignerName, SignerTitle: sig.SignerTitle, SignerEmail: sig.SignerEmail, Customer: sig.Company,
		SignerIP: from.IP, SignedAt: now, DataRegion: sig.DataRegion, TransferMechanism: sig.TransferMechanism,
		SCCModule: SCCModuleLabel(sig.SCCModule), VerifyURL: s.link("/trust/verify")}
	pdf, err := RenderCountersigned(doc)
	if err != nil {
		return nil, nil, err
	}
	name := fmt.Sprintf("dpa-%s-v%d-countersigned.pdf", strings.Trim(countersignedName.ReplaceAllString(strings.ToLower(sig.Company), "-"), "-"), version.Number)
	f, err := s.files.Put(SignedDPA, name, strings.NewReader(string(pdf)))
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(pdf)
	pdfSHA := hex.EncodeToString(sum[:])
	var signature string
	if s.settings.SigningKey != nil {
		signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.settings.SigningKey, []byte(pdfSHA)))
	}
	var d DPA
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// One signature per company and version, also when two links of
		// one company are confirmed at once.
		if err := store.TakeTurn(tx, "dpa-signature:"+sig.Domain); err != nil {
			return err
		}
		if _, err := sharelink.Resolve(tx, now, SignatureLinkPurpose, token); err != nil {
			return err
		}
		var fresh DPASignature
		if err := store.ForUpdate(tx).Take(&fresh, sig.ID).Error; err != nil {
			return err
		}
		if fresh.Status != SignatureUnconfirmed {
			return sharelink.ErrDead
		}
		if prior, err := existingSignature(tx, sig.Domain, version.Number); err != nil {
			return err
		} else if prior != nil {
			return errAlreadySigned(prior.Company, version.Number, *prior.SignedAt)
		}
		by := from
		by.Label = "signer:" + sig.SignerEmail
		mechanisms, modules := "none", ""
		if sig.SCCModule != "" {
			mechanisms, modules = "eu_scc", sig.SCCModule
		}
		day := s.today()
		d = DPA{Direction: Customer, Counterparty: sig.Company, ContactEmail: sig.SignerEmail, Domain: sig.Domain, Status: Signed,
			TemplateVersion: strconv.Itoa(version.Number), SignedOn: &day, EffectiveOn: &day,
			OurSignatory: company + " (countersigned electronically)", TheirSignatory: sig.SignerName + ", " + sig.SignerTitle,
			DataRegion: sig.DataRegion, TransferMechanisms: mechanisms, SCCModules: modules, SubprocessorAuthorization: "general",
			NoticeDays: DefaultNoticeDays, FileSHA256: f.SHA256, FileName: f.Name, FileSize: f.Size, Source: "online signature",
			Notes: fmt.Sprintf("Standard DPA version %d (text SHA-256 %s) signed online by %s, %s <%s>, on %s UTC from %s. Transfer mechanism chosen: %s.",
				version.Number, version.SHA256, sig.SignerName, sig.SignerTitle, sig.SignerEmail, now.Format("2006-01-02 15:04:05"), from.IP,
				orNone(sig.TransferMechanism))}
		if err := s.insertDPA(tx, by, &d, fmt.Sprintf("signed online: standard DPA version %d", version.Number)); err != nil {
			return err
		}
		key := signedKey(sig.Domain, version.Number)
		fresh.Status, fresh.SignedAt, fresh.SignedIP, fresh.CountersignedBy = SignatureSigned, &now, from.IP, company
		fresh.DPAID, fresh.PDFSHA256, fresh.PDFSignature, fresh.SignedKey = &d.ID, pdfSHA, signature, &key
		if err := tx.Save(&fresh).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return errAlreadySigned(sig.Company, version.Number, now)
			}
			return err
		}
		sig = fresh
		if err := sharelink.Revoke(tx, now, SignatureLinkPurpose, sig.ID); err != nil {
			return err
		}
		if err := audit.Append(tx, by, audit.Entry{At: now, Action: "dpa_signature.signed", ObjectType: "dpa_signature",
			ObjectID: strconv.FormatInt(sig.ID, 10), After: stateOfSignature(&sig, version.Number)}); err != nil {
			return err
		}
		if err := audit.Append(tx, audit.System("system:countersignature"), audit.Entry{At: now, Action: "dpa_signature.countersigned",
			ObjectType: "dpa_signature", ObjectID: strconv.FormatInt(sig.ID, 10),
			After: map[string]any{"company": company, "pdf_sha256": pdfSHA, "ed25519_signature": signature, "dpa_id": d.ID}}); err != nil {
			return err
		}
		mail := notify.DPASigned{Name: sig.SignerName, Company: company, Customer: sig.Company, Version: version.Number, SignedAt: now,
			TextSHA256: version.SHA256, PDFSHA256: pdfSHA, Signature: signature, VerifyLink: s.link("/trust/verify"),
			PDF: notify.Attachment{SHA256: f.SHA256, Name: f.Name}}
		_, err := s.settings.Mail.Enqueue(tx, now, s.mailDomain(), sig.SignerEmail, mail)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return &sig, &d, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// SignatureOfDPA returns the online signature behind a register entry, or
// nil for an entry made otherwise.
func (s *Service) SignatureOfDPA(ctx context.Context, dpaID int64) (*DPASignature, *StandardDPAVersion, error) {
	var sig DPASignature
	err := s.db.WithContext(ctx).Where("dpa_id = ?", dpaID).Take(&sig).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	var v StandardDPAVersion
	return &sig, &v, s.db.WithContext(ctx).Take(&v, sig.VersionID).Error
}

// SignedDPAVerification says whether a file is a countersigned standard
// DPA the company issued.
type SignedDPAVerification struct {
	Signed     bool
	SHA256     string // of the file
	Customer   string
	Signer     string // name, title and address
	Version    int
	TextSHA256 string
	SignedAt   time.Time
	// Signature is the company's Ed25519 signature (base64) of SHA256 as
	// text, checkable with the key published on /trust/verify.
	Signature string
}

// VerifyCountersigned looks a file's SHA-256 up among the countersigned
// DPAs. Errors: Invalid naming "sha256" for a malformed sum.
func (s *Service) VerifyCountersigned(ctx context.Context, sum string) (*SignedDPAVerification, error) {
	sum = strings.ToLower(strings.TrimSpace(sum))
	if len(sum) != 64 {
		return nil, apperr.Field("sha256", "must be 64 hexadecimal characters")
	}
	var sig DPASignature
	err := s.db.WithContext(ctx).Where("pdf_sha256 = ? AND status = ?", sum, SignatureSigned).Take(&sig).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &SignedDPAVerification{SHA256: sum}, nil
	} else if err != nil {
		return nil, err
	}
	var v StandardDPAVersion
	if err := s.db.WithContext(ctx).Take(&v, sig.VersionID).Error; err != nil {
		return nil, err
	}
	return &SignedDPAVerification{Signed: true, SHA256: sum, Customer: sig.Company,
		Signer: sig.SignerName + ", " + sig.SignerTitle + " <" + sig.SignerEmail + ">", Version: v.Number, TextSHA256: v.SHA256,
		SignedAt: *sig.SignedAt, Signature: sig.PDFSignature}, nil
}

// DeleteUnconfirmedSignatures deletes the signatures asked for before
// before whose signer never confirmed, with their confirmation links, and
// audits each deletion in the same transaction: a form filled in with
// someone else's address leaves nothing behind. Their links (7 days) are
// dead by then. It returns how many it deleted.
func (s *Service) DeleteUnconfirmedSignatures(ctx context.Context, by audit.Actor, before time.Time) (int, error) {
	before = before.UTC()
	return store.InBatches(ctx, s.db, func(tx *gorm.DB, limit int) (int, error) {
		var stale []DPASignature
		if err := tx.Where("status = ? AND requested_at < ?", SignatureUnconfirmed, before).Order("id").Limit(limit).Find(&stale).Error; err != nil || len(stale) == 0 {
			return 0, err
		}
		ids := make([]int64, len(stale))
		records := make([]audit.Record, len(stale))
		now := s.clock()
		for i, sig := range stale {
			ids[i] = sig.ID
			records[i] = audit.Record{By: by, Entry: audit.Entry{At: now, Action: "dpa_signature.expired", ObjectType: "dpa_signature",
				ObjectID: strconv.FormatInt(sig.ID, 10), Before: map[string]any{"requested_at": sig.RequestedAt, "domain": sig.Domain}}}
		}
		if err := tx.Where("id IN ?", ids).Delete(&DPASignature{}).Error; err != nil {
			return 0, err
		}
		if err := tx.Where("purpose = ? AND subject_id IN ?", SignatureLinkPurpose, ids).Delete(&sharelink.Link{}).Error; err != nil {
			return 0, err
		}
		return len(stale), audit.AppendAll(tx, records)
	})
}

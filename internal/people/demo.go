package people

import (
	"context"
	"fmt"
	"time"

	"github.com/charter-registry/charter/internal/audit"
	"gopkg.in/yaml.v3"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// demoPerson is one entry of seed/demo-team.yaml; days are relative to
// the day the team is loaded.
type demoPerson struct {
	Email        string    `yaml:"email"`
	Name         string    `yaml:"name"`
	Title        string    `yaml:"title"`
	Department   string    `yaml:"department"`
	Manager      string    `yaml:"manager"`
	Country      string    `yaml:"country"`
	Type         string    `yaml:"type"`
	Start        int       `yaml:"start"`
	End          *int      `yaml:"end"`
	Acks         yaml.Node `yaml:"acks"`
	Training     *int      `yaml:"training"`
	Check        string    `yaml:"check"`
	ExemptReason string    `yaml:"exempt_reason"`
}

// SeedDemoTeam loads the fictional demo team into an empty roster, with
// acknowledgements, training and background checks that give a realistic
// mix of states. It reports whether it loaded anything.
func (s *Service) SeedDemoTeam(ctx context.Context, by audit.Actor, data []byte) (bool, error) {
	var team []demoPerson
	if err := yaml.Unmarshal(data, &team); err != nil {
		return false, fmt.Errorf("demo team: %w", err)
	}
	loaded := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Employee{}).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		today := s.today()
		day := func(offset int) string { return today.AddDate(0, 0, offset).Format(time.DateOnly) }
		reqs, err := requirements(tx)
		if err != nil {
			return err
		}
		courses, err := courseList(tx)
		if err != nil {
			return err
		}
		var course *Course
		if len(courses) > 0 {
			course = &courses[0]
		}
		var ids []int64
		for _, p := range team {
			in := Input{Email: p.Email, Name: p.Name, Title: p.Title, Department: p.Department, ManagerEmail: p.Manager,
				Country: p.Country, EmploymentType: p.Type, StartDate: day(p.Start)}
			if p.End != nil {
				in.EndDate = day(*p.End)
			}
			e, errs := in.Parse(s.check)
			if errs != nil {
				return fmt.Errorf("demo team: %s: %v", p.Email, errs)
			}
			if err := s.insert(tx, by, &e); err != nil {
				return err
			}
			if err := s.demoCheck(tx, by, &e, p, day); err != nil {
				return err
			}
			if p.Training != nil && course != nil {
				if _, err := s.recordTraining(tx, by, &e, course, today.AddDate(0, 0, *p.Training), "demo"); err != nil {
					return err
				}
			}
			ids = append(ids, e.ID)
			for _, r := range reqs {
				if demoAcknowledged(p.Acks, r.Slug) {
					if _, err := s.record(tx, by, &e, r.Slug, MethodImport); err != nil {
						return err
					}
				}
			}
		}
		loaded = true
		return s.refresh(tx, ids...)
	})
	return loaded, err
}

func (s *Service) demoCheck(tx *gorm.DB, by audit.Actor, e *Employee, p demoPerson, day func(int) string) error {
	in := CheckInput{Status: p.Check, Provider: "Example Screening Ltd"}
	switch CheckStatus(p.Check) {
	case CheckNotStarted, "":
		return nil
	case CheckInProgress:
		in.InitiatedOn = day(p.Start - 20)
	case CheckExempt:
		in.Provider, in.ExemptionReason = "", p.ExemptReason
	default:
		in.InitiatedOn, in.CompletedOn = day(p.Start-30), day(p.Start-10)
	}
	c, errs := in.Parse(s.check)
	if errs != nil {
		return fmt.Errorf("demo team: %s: %v", p.Email, errs)
	}
	c.EmployeeID, c.UpdatedAt = e.ID, s.clock()
	if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&c).Error; err != nil {
		return err
	}
	return audit.Append(tx, by, audit.Entry{At: c.UpdatedAt, Action: "background_check.updated", ObjectType: "employee",
		ObjectID: e.Email, After: checkState(&c)})
}

// demoAcknowledged reads acks: "all", "none" or a list of slugs.
func demoAcknowledged(acks yaml.Node, slug string) bool {
	switch acks.Kind {
	case yaml.ScalarNode:
		return acks.Value == "all"
	case yaml.SequenceNode:
		for _, n := range acks.Content {
			if n.Value == slug {
				return true
			}
		}
	}
	return false
}

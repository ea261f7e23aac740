package people

import (
	"strconv"

	"github.com/charter-registry/charter/internal/policy"
	"gorm.io/gorm"
)

// VersionChange is one published version of a policy and its change
// summary.
type VersionChange struct {
	Version string
	Summary string
}

// versionRow is a published or superseded version, without its text.
type versionRow struct {
	ID            int64
	PolicyID      int64
	Major         int
	Minor         int
	ChangeSummary string
}

func (v versionRow) after(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor > minor)
}

func (v versionRow) number() string { return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) }

// sinceLastAcknowledged fills in, for each owed policy that e acknowledged
// in an earlier version, that version, the versions published since and
// the changes-only diff from its text to the current one; in three
// queries whatever the number of policies.
func sinceLastAcknowledged(db *gorm.DB, e *Employee, owed []OwedPolicy) error {
	ids := make([]int64, len(owed))
	for i, o := range owed {
		ids[i] = o.PolicyID
	}
	var acks []Acknowledgement
	if err := db.Select("policy_id", "version_id", "major", "minor").
		Where("employee_id = ? AND policy_id IN ?", e.ID, ids).Find(&acks).Error; err != nil {
		return err
	}
	last := map[int64]Acknowledgement{}
	for _, a := range acks {
		if cur, ok := last[a.PolicyID]; !ok || a.Major > cur.Major || (a.Major == cur.Major && a.Minor > cur.Minor) {
			last[a.PolicyID] = a
		}
	}
	if len(last) == 0 {
		return nil
	}
	lastIDs := make([]int64, 0, len(last))
	for _, a := range last {
		lastIDs = append(lastIDs, a.VersionID)
	}
	var bodies []struct {
		ID   int64
		Body string
	}
	if err := db.Table("policy_versions").Select("id, body").Where("id IN ?", lastIDs).Scan(&bodies).Error; err != nil {
		return err
	}
	bodyOf := make(map[int64]string, len(bodies))
	for _, b := range bodies {
		bodyOf[b.ID] = b.Body
	}
	var versions []versionRow
	if err := db.Table("policy_versions").Select("id, policy_id, major, minor, change_summary").
		Where("policy_id IN ? AND status IN ('published', 'superseded')", ids).
		Order("policy_id, major, minor").Scan(&versions).Error; err != nil {
		return err
	}
	for i := range owed {
		o := &owed[i]
		a, ok := last[o.PolicyID]
		if !ok {
			continue
		}
		o.LastAcknowledged = strconv.Itoa(a.Major) + "." + strconv.Itoa(a.Minor)
		for _, v := range versions {
			if v.PolicyID == o.PolicyID && v.after(a.Major, a.Minor) {
				o.Changes = append(o.Changes, VersionChange{Version: v.number(), Summary: v.ChangeSummary})
			}
		}
		o.Diff = policy.ChangesOnly(policy.DiffLines(bodyOf[a.VersionID], o.Body), policy.DiffContextLines)
	}
	return nil
}
